//! Objects of APIs that only some distributions serve (OpenShift's cluster Network, Kube-OVN
//! Subnets, Azure's NodeNetworkConfigs), kept as the API served them: netcheck reads a few
//! fields of each, and a snapshot keeps them whole for a later reader.

use super::Meta;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct ApiObject {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(default)]
    pub metadata: Meta,
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub spec: Value,
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub status: Value,
}

/// One such API: where it is served and what it is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiType {
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
}

impl ApiType {
    pub fn api_version(&self) -> String {
        format!("{}/{}", self.group, self.version)
    }
    /// `plural.group`, as RBAC and kubectl name it.
    pub fn resource(&self) -> String {
        format!("{}.{}", self.plural, self.group)
    }
    /// The collection's path, in a namespace for namespaced types.
    pub fn path(&self, namespace: Option<&str>) -> String {
        match namespace {
            Some(ns) => format!(
                "/apis/{}/{}/namespaces/{ns}/{}",
                self.group, self.version, self.plural
            ),
            None => format!("/apis/{}/{}/{}", self.group, self.version, self.plural),
        }
    }
}

/// OpenShift's cluster network configuration; the object is named `cluster`.
pub const OPENSHIFT_NETWORK: ApiType = ApiType {
    group: "config.openshift.io",
    version: "v1",
    plural: "networks",
    kind: "Network",
    namespaced: false,
};

/// Kube-OVN's subnets; the default one (`ovn-default`) is the pod range.
pub const KUBEOVN_SUBNET: ApiType = ApiType {
    group: "kubeovn.io",
    version: "v1",
    plural: "subnets",
    kind: "Subnet",
    namespaced: false,
};

/// Azure CNS's per-node network configuration (AKS); in overlay mode it states the pod range.
pub const AZURE_NNC: ApiType = ApiType {
    group: "acn.azure.com",
    version: "v1alpha",
    plural: "nodenetworkconfigs",
    kind: "NodeNetworkConfig",
    namespaced: true,
};

/// Calico's claim of one IPAM block by one node (`spec.cidr`, `spec.node`, `spec.state`).
pub const CALICO_BLOCK_AFFINITY: ApiType = ApiType {
    group: "crd.projectcalico.org",
    version: "v1",
    plural: "blockaffinities",
    kind: "BlockAffinity",
    namespaced: false,
};

/// The cluster-wide policies of SIG Network's policy API, evaluated before (AdminNetworkPolicy)
/// and after (BaselineAdminNetworkPolicy) NetworkPolicies. Not installed (404) is normal.
pub const ADMIN_NETWORK_POLICY: ApiType = ApiType {
    group: "policy.networking.k8s.io",
    version: "v1alpha1",
    plural: "adminnetworkpolicies",
    kind: "AdminNetworkPolicy",
    namespaced: false,
};

pub const BASELINE_ADMIN_NETWORK_POLICY: ApiType = ApiType {
    group: "policy.networking.k8s.io",
    version: "v1alpha1",
    plural: "baselineadminnetworkpolicies",
    kind: "BaselineAdminNetworkPolicy",
    namespaced: false,
};

/// The CNI's own policy kinds: counted and named, not evaluated (their semantics are the
/// CNI's: L7 rules, entities, tiers, orders).
pub const CILIUM_NETWORK_POLICY: ApiType = ApiType {
    group: "cilium.io",
    version: "v2",
    plural: "ciliumnetworkpolicies",
    kind: "CiliumNetworkPolicy",
    namespaced: true,
};

pub const CILIUM_CLUSTERWIDE_NETWORK_POLICY: ApiType = ApiType {
    group: "cilium.io",
    version: "v2",
    plural: "ciliumclusterwidenetworkpolicies",
    kind: "CiliumClusterwideNetworkPolicy",
    namespaced: false,
};

pub const CALICO_NETWORK_POLICY: ApiType = ApiType {
    group: "crd.projectcalico.org",
    version: "v1",
    plural: "networkpolicies",
    kind: "NetworkPolicy",
    namespaced: true,
};

pub const CALICO_GLOBAL_NETWORK_POLICY: ApiType = ApiType {
    group: "crd.projectcalico.org",
    version: "v1",
    plural: "globalnetworkpolicies",
    kind: "GlobalNetworkPolicy",
    namespaced: false,
};

/// Policy kinds netcheck reads but does not evaluate.
pub const CNI_POLICY_TYPES: &[ApiType] = &[
    CILIUM_NETWORK_POLICY,
    CILIUM_CLUSTERWIDE_NETWORK_POLICY,
    CALICO_NETWORK_POLICY,
    CALICO_GLOBAL_NETWORK_POLICY,
];

/// Ingress (#19): built in, but read like the optional APIs (404: not served).
pub const INGRESS: ApiType = ApiType {
    group: "networking.k8s.io",
    version: "v1",
    plural: "ingresses",
    kind: "Ingress",
    namespaced: true,
};

pub const INGRESS_CLASS: ApiType = ApiType {
    group: "networking.k8s.io",
    version: "v1",
    plural: "ingressclasses",
    kind: "IngressClass",
    namespaced: false,
};

const fn gw(version: &'static str, plural: &'static str, kind: &'static str, ns: bool) -> ApiType {
    ApiType {
        group: "gateway.networking.k8s.io",
        version,
        plural,
        kind,
        namespaced: ns,
    }
}

/// The Gateway API's kinds, each in the versions read, preferred first: v1 where the standard
/// channel serves it, then what older releases (and the experimental channel) serve.
pub const GATEWAY_CLASSES: &[ApiType] = &[
    gw("v1", "gatewayclasses", "GatewayClass", false),
    gw("v1beta1", "gatewayclasses", "GatewayClass", false),
];
pub const GATEWAYS: &[ApiType] = &[
    gw("v1", "gateways", "Gateway", true),
    gw("v1beta1", "gateways", "Gateway", true),
];
pub const HTTP_ROUTES: &[ApiType] = &[
    gw("v1", "httproutes", "HTTPRoute", true),
    gw("v1beta1", "httproutes", "HTTPRoute", true),
];
pub const GRPC_ROUTES: &[ApiType] = &[
    gw("v1", "grpcroutes", "GRPCRoute", true),
    gw("v1alpha2", "grpcroutes", "GRPCRoute", true),
];
pub const TLS_ROUTES: &[ApiType] = &[gw("v1alpha2", "tlsroutes", "TLSRoute", true)];
pub const TCP_ROUTES: &[ApiType] = &[gw("v1alpha2", "tcproutes", "TCPRoute", true)];
pub const REFERENCE_GRANTS: &[ApiType] = &[
    gw("v1", "referencegrants", "ReferenceGrant", true),
    gw("v1beta1", "referencegrants", "ReferenceGrant", true),
];

/// What is read to follow traffic from outside in (#19): each kind from the first version
/// served; none served is "not installed".
pub const ROUTE_APIS: &[&[ApiType]] = &[
    &[INGRESS],
    &[INGRESS_CLASS],
    GATEWAY_CLASSES,
    GATEWAYS,
    HTTP_ROUTES,
    GRPC_ROUTES,
    TLS_ROUTES,
    TCP_ROUTES,
    REFERENCE_GRANTS,
];

pub const API_TYPES: &[ApiType] = &[
    INGRESS,
    INGRESS_CLASS,
    GATEWAY_CLASSES[0],
    GATEWAY_CLASSES[1],
    GATEWAYS[0],
    GATEWAYS[1],
    HTTP_ROUTES[0],
    HTTP_ROUTES[1],
    GRPC_ROUTES[0],
    GRPC_ROUTES[1],
    TLS_ROUTES[0],
    TCP_ROUTES[0],
    REFERENCE_GRANTS[0],
    REFERENCE_GRANTS[1],
    OPENSHIFT_NETWORK,
    KUBEOVN_SUBNET,
    AZURE_NNC,
    CALICO_BLOCK_AFFINITY,
    ADMIN_NETWORK_POLICY,
    BASELINE_ADMIN_NETWORK_POLICY,
    CILIUM_NETWORK_POLICY,
    CILIUM_CLUSTERWIDE_NETWORK_POLICY,
    CALICO_NETWORK_POLICY,
    CALICO_GLOBAL_NETWORK_POLICY,
];

impl ApiObject {
    pub fn is(&self, t: &ApiType) -> bool {
        self.kind == t.kind && self.api_version == t.api_version()
    }
    /// Of any of these versions of one kind.
    pub fn is_any(&self, ts: &[ApiType]) -> bool {
        ts.iter().any(|t| self.is(t))
    }
}
