//! Where Services send traffic: EndpointSlices (discovery.k8s.io/v1), and the core Endpoints
//! that older or RBAC-limited readers fall back to. Text is short and inline ([`Str`]) or boxed:
//! a big cluster has a hundred thousand endpoints.

use super::{Meta, Name, OneOrMany, PodName, Str};
use serde::{Deserialize, Serialize};

pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
pub const MANAGED_BY_LABEL: &str = "endpointslice.kubernetes.io/managed-by";

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct EndpointSlice {
    #[serde(default)]
    pub metadata: Meta,
    /// IPv4, IPv6 or FQDN.
    #[serde(default)]
    pub address_type: Box<str>,
    #[serde(default)]
    pub endpoints: Vec<Endpoint>,
    #[serde(default)]
    pub ports: Vec<EndpointPort>,
}

impl EndpointSlice {
    /// As [`super::Service::shrink_to_fit`].
    pub fn shrink_to_fit(&mut self) {
        self.endpoints.shrink_to_fit();
        self.ports.shrink_to_fit();
        self.metadata.shrink_to_fit();
    }
    /// The Service it belongs to, by its label.
    pub fn service(&self) -> Option<&str> {
        self.metadata.label(SERVICE_NAME_LABEL)
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Endpoint {
    /// Nearly always one, and its text (an IPv4 or most IPv6 addresses) inline.
    #[serde(default)]
    pub addresses: OneOrMany<Str>,
    #[serde(default)]
    pub conditions: EndpointConditions,
    /// Shared between the endpoints of a node, as pods share it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_name: Option<Name>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_ref: Option<TargetRef>,
}

/// As the API defines them: ready and serving absent mean true, terminating absent false.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EndpointConditions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serving: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminating: Option<bool>,
}

impl EndpointConditions {
    pub fn ready(&self) -> bool {
        self.ready != Some(false)
    }
    pub fn serving(&self) -> bool {
        self.serving != Some(false)
    }
    pub fn terminating(&self) -> bool {
        self.terminating == Some(true)
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TargetRef {
    /// "Pod" nearly always: shared.
    #[serde(default)]
    pub kind: Name,
    /// Nearly always the slice's own: shared like the kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<Name>,
    #[serde(default)]
    pub name: PodName,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EndpointPort {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Str>,
}

/// Core Endpoints (v1), deprecated since 1.33: read only when EndpointSlices cannot be.
#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct Endpoints {
    #[serde(default)]
    pub metadata: Meta,
    #[serde(default)]
    pub subsets: Vec<EndpointSubset>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct EndpointSubset {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<EndpointAddress>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_ready_addresses: Vec<EndpointAddress>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<EndpointPort>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct EndpointAddress {
    #[serde(default)]
    pub ip: Box<str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_name: Option<Box<str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_ref: Option<TargetRef>,
}

impl Endpoints {
    /// The same endpoints as slices: one per subset (ready and not-ready addresses), so that
    /// one analysis serves both APIs.
    pub fn to_slices(&self) -> Vec<EndpointSlice> {
        self.subsets
            .iter()
            .map(|s| {
                let endpoint = |a: &EndpointAddress, ready: bool| Endpoint {
                    addresses: OneOrMany::One(Str::from(&*a.ip)),
                    conditions: EndpointConditions {
                        ready: Some(ready),
                        serving: Some(ready),
                        terminating: None,
                    },
                    node_name: a.node_name.as_deref().map(Name::new),
                    target_ref: a.target_ref.clone(),
                };
                let v6 = s
                    .addresses
                    .iter()
                    .chain(&s.not_ready_addresses)
                    .any(|a| a.ip.contains(':'));
                let mut metadata = self.metadata.clone();
                metadata
                    .labels
                    .insert(SERVICE_NAME_LABEL, self.metadata.name.clone());
                EndpointSlice {
                    metadata,
                    address_type: if v6 { "IPv6" } else { "IPv4" }.into(),
                    endpoints: s
                        .addresses
                        .iter()
                        .map(|a| endpoint(a, true))
                        .chain(s.not_ready_addresses.iter().map(|a| endpoint(a, false)))
                        .collect(),
                    ports: s.ports.clone(),
                }
            })
            .collect()
    }
}
