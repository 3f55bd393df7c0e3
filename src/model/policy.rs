//! NetworkPolicies (networking.k8s.io/v1) and Namespaces, whose labels namespaceSelectors
//! read. AdminNetworkPolicies and the CNI's own policies are `ApiObject`s (see `API_TYPES`):
//! netcheck reads few of their fields, and keeps them whole in a snapshot.

use super::{IntOrString, Meta, SelectorRequirement, StrMap};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Namespace {
    #[serde(default)]
    pub metadata: Meta,
}

/// The label the API server puts on every namespace (1.21+): its name. Namespaces read
/// before it existed, or not read at all, still carry it in effect.
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NetworkPolicy {
    #[serde(default)]
    pub metadata: Meta,
    #[serde(default)]
    pub spec: NetworkPolicySpec,
}

/// Absent and empty lists mean the same in this API (no rules; all peers; all ports), so
/// plain vectors keep the model honest without `Option`s.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NetworkPolicySpec {
    #[serde(default)]
    pub pod_selector: LabelSelector,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policy_types: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ingress: Vec<IngressRule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub egress: Vec<EgressRule>,
}

impl NetworkPolicySpec {
    /// policyTypes as the API server defaults them when the field is empty: Ingress always,
    /// Egress when there are egress rules.
    pub fn affects(&self) -> (bool, bool) {
        if self.policy_types.is_empty() {
            return (true, !self.egress.is_empty());
        }
        let has = |t: &str| self.policy_types.iter().any(|p| p == t);
        (has("Ingress"), has("Egress"))
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct IngressRule {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub from: Vec<PolicyPeer>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<PolicyPort>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EgressRule {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<PolicyPeer>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<PolicyPort>,
}

/// An absent selector (`None`) and an empty one (`Some({})`) differ here: in a peer, an empty
/// podSelector selects every pod, an absent one leaves the choice to namespaceSelector.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PolicyPeer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_selector: Option<LabelSelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_selector: Option<LabelSelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_block: Option<IpBlock>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct IpBlock {
    pub cidr: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub except: Vec<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PolicyPort {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<IntOrString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_port: Option<i32>,
}

impl PolicyPort {
    pub fn protocol(&self) -> &str {
        self.protocol.as_deref().unwrap_or("TCP")
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<SelectorRequirement>,
}

impl LabelSelector {
    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.match_expressions.is_empty()
    }
    /// Label selector semantics: every matchLabels pair and every expression must hold. An
    /// operator the API does not know matches nothing, as the API server would refuse it.
    pub fn matches<'a>(&self, get: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| get(k) == Some(v.as_str()))
            && self.match_expressions.iter().all(|e| {
                let v = get(&e.key);
                match e.operator.as_str() {
                    "In" => v.is_some_and(|v| e.values.iter().any(|x| x == v)),
                    "NotIn" => v.is_none_or(|v| !e.values.iter().any(|x| x == v)),
                    "Exists" => v.is_some(),
                    "DoesNotExist" => v.is_none(),
                    _ => false,
                }
            })
    }
    pub fn matches_map(&self, m: &StrMap) -> bool {
        self.matches(|k| m.get(k).map(|v| v.as_str()))
    }
    /// As kubectl writes a selector: `app=web,tier in (a,b)`; empty is every object.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = self
            .match_labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        for e in &self.match_expressions {
            parts.push(match e.operator.as_str() {
                "Exists" => e.key.clone(),
                "DoesNotExist" => format!("!{}", e.key),
                op => format!("{} {} ({})", e.key, op.to_lowercase(), e.values.join(",")),
            });
        }
        if parts.is_empty() {
            "(all)".into()
        } else {
            parts.join(",")
        }
    }
}
