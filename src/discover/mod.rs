//! Pure discovery over the cluster model: every answer with the sources it came from.
//! Nothing here touches the network or the file system.

pub mod capacity;
pub mod cidrs;
pub mod cni;
pub mod components;
pub mod deploy;
pub mod env;
pub mod netpol;
pub mod plan;
pub mod platform;
pub mod proxy;
pub mod routes;
pub mod rules;

pub mod services;

use ipnet::IpNet;

/// What the user told netcheck about the cluster, resolved from flags.
#[derive(Debug, Clone, Default)]
pub struct Hints {
    /// --node-cidr: the node network when nothing in the cluster states it.
    pub node_cidrs: Vec<IpNet>,
    /// --also-check: ranges that must not collide with the cluster's (VPNs, office LANs).
    pub also_check: Vec<IpNet>,
}
