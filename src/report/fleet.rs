//! `netcheck fleet`: many clusters at once. Each cluster's own report (or why there is none),
//! and the findings between clusters. Public API like `Report` (docs/json-schema.md).

use super::{Fact, FactStatus, Finding, Report, Severity};
use serde::{Deserialize, Serialize};

pub const FLEET_KIND: &str = "Fleet";

#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Fleet {
    pub api_version: String,
    pub kind: String,
    /// In the order asked for: contexts first, then `--from` files.
    pub clusters: Vec<FleetCluster>,
    /// Findings between clusters (and each cluster's own, counted), most severe first.
    pub findings: Vec<Finding>,
    pub summary: FleetSummary,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FleetCluster {
    /// The kubeconfig context, or the file as given to `--from`.
    pub name: String,
    pub origin: Origin,
    /// The API server's URL: from the kubeconfig (also when it could not be reached), or as
    /// recorded in the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// Exactly one of `report` and `error` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<Report>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ClusterError>,
}

/// Where a cluster's answers came from.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// Collected now through a kubeconfig context.
    Context,
    /// Analysed now from a `netcheck snapshot` file.
    Snapshot,
    /// Read from a `netcheck report -o json` file, as it was written.
    Report,
    /// A `--from` file that could not be read as either.
    File,
}

/// Why a cluster has no report.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterError {
    pub kind: ErrorKind,
    /// One line naming the file, context, server, certificate or permission at fault.
    pub message: String,
}

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// The kubeconfig entry is broken: unknown context, missing CA or key file, failed
    /// credential plugin, no server.
    Config,
    /// No connection: refused, DNS, TLS, or no answer.
    Unreachable,
    /// The server rejected the credentials (401): an expired or wrong token or certificate.
    Unauthorized,
    /// The credentials are valid but may read none of nodes, pods and Services (403).
    Forbidden,
    /// No answer within the cluster's deadline (--timeout).
    Timeout,
    /// A `--from` file that cannot be read or is neither a snapshot nor a report.
    File,
}

impl ErrorKind {
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Config => "config",
            ErrorKind::Unreachable => "unreachable",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::Timeout => "timeout",
            ErrorKind::File => "file",
        }
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FleetSummary {
    pub clusters: usize,
    /// Clusters with a report.
    pub analysed: usize,
    /// Clusters with an error.
    pub failed: usize,
    /// The fleet findings by severity.
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
}

/// The three ranges of a cluster, in the order the fleet checks and the table use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RangeKind {
    Node,
    Pod,
    Service,
}

impl RangeKind {
    pub const ALL: [RangeKind; 3] = [RangeKind::Node, RangeKind::Pod, RangeKind::Service];
    pub fn name(self) -> &'static str {
        match self {
            RangeKind::Node => "node network",
            RangeKind::Pod => "pod range",
            RangeKind::Service => "service range",
        }
    }
}

impl FleetCluster {
    /// One of the cluster's range answers, when its report has the cidrs answer.
    pub fn range(&self, kind: RangeKind) -> Option<&Fact> {
        let c = self.report.as_ref()?.cidrs.as_ref()?;
        Some(match kind {
            RangeKind::Node => &c.node_network,
            RangeKind::Pod => &c.pod_cidr,
            RangeKind::Service => &c.service_cidr,
        })
    }

    /// The CNI's name, when known.
    pub fn cni(&self) -> Option<&str> {
        let c = self.report.as_ref()?.cidrs.as_ref()?;
        Some(c.cni.name.as_str())
    }

    /// kube-proxy's mode (the running ones, else the configured one), or what replaces it.
    pub fn proxy_mode(&self) -> Option<String> {
        let p = self.report.as_ref()?.proxy.as_ref()?;
        let mode = if !p.running_modes.is_empty() {
            Some(p.running_modes.join(","))
        } else {
            p.configured_mode.clone()
        };
        Some(match (p.implementation.as_str(), mode) {
            ("kube-proxy", Some(m)) => m,
            (imp, Some(m)) if imp.ends_with("-embedded") => m,
            (imp, _) => imp.to_string(),
        })
    }

    /// Whether a range is only a lower bound (derived from addresses in use).
    pub fn inferred(&self, kind: RangeKind) -> bool {
        self.range(kind)
            .is_some_and(|f| f.status == FactStatus::Inferred)
    }

    /// The cluster's own findings' severity at worst, if it has any.
    pub fn worst(&self) -> Option<Severity> {
        self.report
            .as_ref()?
            .findings
            .iter()
            .map(|f| f.severity)
            .max()
    }
}
