//! Collectors: the only code that reads the outside world (API server, files, this host).

mod api;
pub mod dump;
pub mod exec;
pub mod fleet;
pub mod kubeconfig;
pub mod live;
pub mod names;
pub mod node;
pub mod proto;
pub mod rules;

pub mod snapshot;
pub mod watch;

/// An error that ends the run (exit 2): bad input, unreachable cluster, unreadable snapshot.
#[derive(Debug)]
pub struct Fatal(pub String);

impl std::fmt::Display for Fatal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Fatal {}
