//! The answers netcheck gives, as serialised in `-o json` / `-o yaml`. This is public API:
//! docs/json-schema.md describes it and tests deserialise it with unknown fields denied.

mod capacity;
mod cidrs;
mod deploy;
mod diff;
mod fleet;
mod netpol;
mod proxy;
mod routes;
mod rules;
mod services;

pub use capacity::*;
pub use cidrs::*;
pub use deploy::*;
pub use diff::*;
pub use fleet::*;
pub use netpol::*;
pub use proxy::*;
pub use routes::*;
pub use rules::*;
pub use services::*;

use crate::model::{CollectError, SourceInfo};
use serde::{Deserialize, Serialize};

pub const REPORT_API_VERSION: &str = "netcheck/v1";

/// What the user asked for: the command, and the topics whose answers and checks it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Report,
    Cidrs,
    ProxyMode,
    Daemonsets,
    Services,
    Rules,
    Trace,
    Capacity,
    Policies,
    CanReach,
}

impl Command {
    pub fn name(self) -> &'static str {
        match self {
            Command::Report => "report",
            Command::Cidrs => "cidrs",
            Command::ProxyMode => "proxy-mode",
            Command::Daemonsets => "daemonsets",
            Command::Services => "services",
            Command::Rules => "rules",
            Command::Trace => "trace",
            Command::Capacity => "capacity",
            Command::Policies => "policies",
            Command::CanReach => "can-reach",
        }
    }
    pub fn topics(self) -> &'static [Topic] {
        match self {
            Command::Report => &[
                Topic::Cidrs,
                Topic::Proxy,
                Topic::Deploy,
                Topic::Services,
                Topic::Capacity,
                Topic::Policies,
            ],
            Command::Cidrs => &[Topic::Cidrs, Topic::Capacity],
            Command::ProxyMode => &[Topic::Proxy],
            Command::Daemonsets => &[Topic::Deploy],
            Command::Services => &[Topic::Services],
            Command::Rules => &[Topic::Rules],
            Command::Trace => &[Topic::Trace],
            Command::Capacity => &[Topic::Capacity],
            Command::Policies => &[Topic::Policies],
            Command::CanReach => &[Topic::Reach],
        }
    }
}

/// Which command's answers a check is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    Cidrs,
    Proxy,
    Deploy,
    Services,
    Rules,
    Trace,
    Capacity,
    /// NetworkPolicies: isolation, enforcement, rules that never match (#17).
    Policies,
    /// One flow through the policies (`can-reach`).
    Reach,
}

/// Which Services a `services` view covers: all, one namespace, or one Service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    pub namespace: Option<String>,
    pub service: Option<String>,
    /// trace: one port (number or name) and one node.
    pub port: Option<String>,
    pub node: Option<String>,
    /// trace --host/--path: where traffic enters, followed through the routes to a Service.
    pub host: Option<String>,
    pub path: Option<String>,
    /// can-reach: the flow asked about.
    pub reach: Option<ReachQuery>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Report {
    pub api_version: String,
    pub kind: String,
    /// The command that produced it: report, cidrs, proxy-mode, daemonsets, services.
    pub command: String,
    pub source: SourceInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cidrs: Option<CidrAnswer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<ProxyAnswer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployments: Option<Vec<Deployment>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub services: Option<ServicesAnswer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<RulesAnswer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<TraceAnswer>,
    /// Added in #18: older reports lack it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<CapacityAnswer>,
    /// NetworkPolicies (#17): in `policies`, and in `report` for its findings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policies: Option<PoliciesAnswer>,
    /// `can-reach`: one flow through the policies (#17).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reach: Option<ReachAnswer>,
    /// The --also-check ranges, for the address map (added; absent when none were given).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also_check: Vec<ipnet::IpNet>,

    pub findings: Vec<Finding>,
    /// Reads that failed; the answers that needed them say "skipped" too.
    pub skipped: Vec<CollectError>,
    pub summary: Summary,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub explain: Vec<Explanation>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
}

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Finding {
    /// Stable identifier, documented in docs/findings.md.
    pub id: String,
    pub severity: Severity,
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<String>,
    /// Evidence: the sources, objects or lines involved.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
    /// Nodes, pods or services affected (at most a handful are named; `count` has the total).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<usize>,
    pub hint: String,
}

/// With --explain: how a person would check an answer by hand on this cluster.
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Explanation {
    pub topic: String,
    pub steps: Vec<ExplainStep>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExplainStep {
    pub command: String,
    pub look_for: String,
}
