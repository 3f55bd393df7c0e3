//! Test support. `apiserver` is a std-only stand-in for kube-apiserver that serves a
//! [`Cluster`](netcheck::model::Cluster) snapshot, for integration tests and benchmarks.

pub mod apiserver;
mod exec;
pub mod generate;
pub mod kubeproxy;
pub mod kubeproxy_nft;

pub mod proto;

pub use apiserver::{ApiServer, Fault, Options, PolicyRule, Recorded, Rule, Tls};
