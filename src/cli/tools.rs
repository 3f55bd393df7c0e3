//! Subcommands about netcheck itself rather than a cluster: shell completion and the man page.
//! Flattened into `Cmd`, so that they sit beside the others in `--help`.

use clap::Subcommand;
pub use clap_complete::Shell;

#[derive(Subcommand, Debug, Clone)]
pub enum Tools {
    /// Print a shell completion script for netcheck (kubectl netcheck completes through the
    /// kubectl_complete-netcheck executable instead; see docs/usage.md)
    Completion {
        /// The shell the script is for
        #[arg(value_name = "SHELL")]
        shell: Shell,
    },
    /// Print netcheck's manual page (roff), e.g. `netcheck man > netcheck.1; man -l netcheck.1`
    Man,
}
