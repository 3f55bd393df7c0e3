fn main() {
    std::process::exit(netcheck::app::tools::kubectl_complete_main())
}
