//! The range answers: node network, pod and service CIDRs, each a [`Fact`] with its sources.

use crate::model::CollectError;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CidrAnswer {
    /// Added after netcheck/v1 was first published: older reports lack it.
    #[serde(default)]
    pub platform: Platform,
    pub cni: Cni,
    pub node_network: Fact,
    pub nodes: Vec<NodeRow>,
    pub pod_cidr: Fact,
    pub service_cidr: Fact,
}

impl CidrAnswer {
    /// The three range answers with their names, for checks that treat them alike.
    pub fn facts(&self) -> [(&'static str, &Fact); 3] {
        [
            ("node network", &self.node_network),
            ("pod range", &self.pod_cidr),
            ("service range", &self.service_cidr),
        ]
    }
}

/// The distribution or managed service, from the marks it leaves in the API.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Platform {
    /// openshift, microk8s, k3s, rke2, aks, eks, gke, aws, gce (kube-up), minikube, kind,
    /// kubeadm, unknown.
    pub name: String,
    pub evidence: String,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Cni {
    /// weave, flannel, calico, cilium, kindnet, aws-vpc-cni, antrea, kube-router, gke-dataplane-v2,
    /// ovn-kubernetes, k3s-flannel, or unknown.
    pub name: String,
    /// own-range: the plugin allocates from its own pool and ignores node podCIDRs;
    /// node-podcidrs: it uses each node's spec.podCIDRs; vpc: pods take the node network's addresses.
    pub ipam: String,
    pub evidence: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daemon_set: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum FactStatus {
    /// Stated by a source that sets or uses the value.
    Known,
    /// Derived from addresses in use (a lower bound), not stated anywhere netcheck could read.
    Inferred,
    Unknown,
}

/// One answer: the effective value, why it was chosen, and every source consulted.
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Fact {
    pub status: FactStatus,
    pub cidrs: Vec<IpNet>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chosen: Option<SourceId>,
    pub why: String,
    pub sources: Vec<Source>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SourceStatus {
    /// Read and parsed.
    Found,
    /// Not written anywhere; the component's documented default applies (netcheck saw the
    /// component's whole configuration).
    Default,
    /// The documented default, but netcheck could not see all that could set the value (a
    /// config file, a ConfigMap it may not read, an operator): a candidate, not an answer.
    Candidate,
    /// Could not be read (forbidden, timed out, missing log...).
    Skipped,
    /// Read but does not parse.
    Invalid,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Source {
    pub id: SourceId,
    pub status: SourceStatus,
    pub cidrs: Vec<IpNet>,
    /// The value as written, when it was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
    /// Object and field, file and flag, or log line the value came from; or why it was skipped.
    pub evidence: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needs: Option<String>,
    /// What the cluster shows against this value (Service or pod addresses outside it), when
    /// that ruled it out as the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contradicted_by: Option<String>,
}

/// Where a value came from. The order of the variants within a fact is its ranking: what the
/// data plane uses first, then what configures it, then what is only observed.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum SourceId {
    // node network
    HostInterface,
    CalicoNodeAddress,
    UserNodeCidr,
    NodeAddresses,
    // pod range: the CNI's own
    WeaveLog,
    WeaveEnv,
    WeaveInterface,
    WeaveDefault,
    CalicoIppool,
    CalicoEnv,
    CalicoDefault,
    CiliumConfig,
    CiliumDefault,
    FlannelNetConf,
    FlannelSubnetEnv,
    KindnetEnv,
    KubeOvnSubnet,
    AzureNnc,
    // pod and service range: configuration
    ServicecidrApi,
    OpenshiftNetwork,
    KubeApiserverFlag,
    ServiceCidrProbe,
    KubeApiserverDefault,
    KubeControllerManagerFlag,
    KubeadmConfig,
    K3sArgs,
    K3sDefault,
    PlatformDefault,
    KubeProxyConfig,
    // observed
    NodePodcidrs,
    PodIps,
    KubernetesService,
    ServiceIps,
}

impl SourceId {
    /// The CNI plugin's own statement of the range it allocates from.
    pub fn is_cni(self) -> bool {
        use SourceId::*;
        matches!(
            self,
            WeaveLog
                | WeaveEnv
                | WeaveInterface
                | WeaveDefault
                | CalicoIppool
                | CalicoEnv
                | CalicoDefault
                | CiliumConfig
                | CiliumDefault
                | FlannelNetConf
                | FlannelSubnetEnv
                | KindnetEnv
                | KubeOvnSubnet
                | AzureNnc
        )
    }
    /// Derived from addresses in use rather than stated.
    pub fn is_observed(self) -> bool {
        use SourceId::*;
        matches!(
            self,
            NodeAddresses | NodePodcidrs | PodIps | KubernetesService | ServiceIps
        )
    }
    pub fn name(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }
}

#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeRow {
    pub name: String,
    pub internal_ips: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub external_ips: Vec<String>,
    /// The network this node's address is on, when something states its prefix.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub networks: Vec<IpNet>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pod_cidrs: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<bool>,
}

impl Fact {
    pub fn unknown(why: impl Into<String>, sources: Vec<Source>) -> Fact {
        Fact {
            status: FactStatus::Unknown,
            cidrs: vec![],
            chosen: None,
            why: why.into(),
            sources,
        }
    }
    pub fn is_known(&self) -> bool {
        self.status != FactStatus::Unknown
    }
    pub fn found(&self) -> impl Iterator<Item = &Source> {
        self.sources
            .iter()
            .filter(|s| matches!(s.status, SourceStatus::Found | SourceStatus::Default))
    }
    /// Sources that state a value and that the cluster does not contradict.
    pub fn believed(&self) -> impl Iterator<Item = &Source> {
        self.found().filter(|s| s.contradicted_by.is_none())
    }
}

impl Source {
    pub fn found(
        id: SourceId,
        cidrs: Vec<IpNet>,
        raw: impl Into<String>,
        evidence: impl Into<String>,
    ) -> Source {
        Source {
            id,
            status: SourceStatus::Found,
            cidrs,
            raw: Some(raw.into()),
            evidence: evidence.into(),
            needs: None,
            contradicted_by: None,
        }
    }
    pub fn default_value(id: SourceId, cidrs: Vec<IpNet>, evidence: impl Into<String>) -> Source {
        Source {
            id,
            status: SourceStatus::Default,
            cidrs,
            raw: None,
            evidence: evidence.into(),
            needs: None,
            contradicted_by: None,
        }
    }
    /// A default that applies only if nothing netcheck could not see sets the value.
    pub fn candidate(id: SourceId, cidrs: Vec<IpNet>, evidence: impl Into<String>) -> Source {
        Source {
            status: SourceStatus::Candidate,
            ..Source::default_value(id, cidrs, evidence)
        }
    }
    /// A source that exists, but outside the API (a file on the nodes): where to find it.
    pub fn elsewhere(id: SourceId, evidence: impl Into<String>) -> Source {
        Source {
            status: SourceStatus::Skipped,
            ..Source::default_value(id, vec![], evidence)
        }
    }
    pub fn skipped(id: SourceId, err: &CollectError) -> Source {
        Source {
            id,
            status: SourceStatus::Skipped,
            cidrs: vec![],
            raw: None,
            evidence: format!("{}: {}", err.what, err.reason),
            needs: err.needs.clone(),
            contradicted_by: None,
        }
    }
    /// A value that was read but cannot be used (unparseable document or list).
    pub fn invalid(id: SourceId, raw: Option<String>, evidence: String) -> Source {
        Source {
            id,
            status: SourceStatus::Invalid,
            cidrs: vec![],
            raw,
            evidence,
            needs: None,
            contradicted_by: None,
        }
    }
    /// Parses `raw` as a CIDR list: found when all of it parses, invalid otherwise.
    pub fn parsed(id: SourceId, raw: &str, evidence: impl Into<String>) -> Source {
        let (cidrs, bad) = crate::cidr::parse_list(raw);
        let evidence = evidence.into();
        if bad.is_empty() {
            Source::found(id, cidrs, raw, evidence)
        } else {
            Source {
                id,
                status: SourceStatus::Invalid,
                cidrs,
                raw: Some(raw.to_string()),
                evidence: format!("{evidence} ({})", bad.join("; ")),
                needs: None,
                contradicted_by: None,
            }
        }
    }
}
