fn main() {
    std::process::exit(netcheck::app::main())
}
