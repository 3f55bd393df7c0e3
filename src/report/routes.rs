//! From outside in (#19): Ingresses and Gateway API routes, the Gateways and classes they rest
//! on, the Services they reach, and what is wrong with each.

use super::Problem;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoutesAnswer {
    /// One per kind read (ingresses.networking.k8s.io, httproutes.gateway.networking.k8s.io, ...).
    pub apis: Vec<RouteApi>,
    /// IngressClasses and GatewayClasses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<ClassRow>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gateways: Vec<GatewayRow>,
    /// Ingresses and HTTP/GRPC/TLS/TCP routes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<RouteRow>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RouteApi {
    /// plural.group
    pub resource: String,
    /// served, not-installed, not-read (a snapshot or dump without it), skipped (the read failed).
    pub status: String,
    /// The version read, when served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Why skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClassRow {
    /// IngressClass or GatewayClass.
    pub kind: String,
    pub name: String,
    /// spec.controller (IngressClass) or spec.controllerName (GatewayClass).
    pub controller: String,
    /// Marked default (ingressclass.kubernetes.io/is-default-class).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub default: bool,
    /// Whether its controller runs: yes, no, unknown.
    pub running: String,
    /// How that was decided (the pods and labels looked for), or why it could not be.
    pub running_evidence: String,
    /// GatewayClass: its Accepted condition, as "True", "False (Reason: message)", absent when
    /// none was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted: Option<String>,
    pub status: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Problem>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GatewayRow {
    pub namespace: String,
    pub name: String,
    pub class: String,
    /// status.addresses values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<String>,
    /// The Programmed condition (Ready before Gateway API v0.7); absent when none was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub programmed: Option<bool>,
    pub listeners: Vec<ListenerRow>,
    pub status: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Problem>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListenerRow {
    pub name: String,
    pub protocol: String,
    pub port: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// From the Gateway's status; absent when the controller wrote none for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attached_routes: Option<i64>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RouteRow {
    /// Ingress, HTTPRoute, GRPCRoute, TLSRoute, TCPRoute.
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// What carries it: "ingressclass nginx" (with "(default)" when taken by default), or
    /// "gateway NS/NAME" (with ":SECTION" when a listener is named).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parents: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hostnames: Vec<String>,
    /// Ingress: status.loadBalancer.ingress.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<String>,
    /// Ingress: the TLS Secrets named (NS/NAME), never read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tls_secrets: Vec<String>,
    pub backends: Vec<BackendRow>,
    pub status: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Problem>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BackendRow {
    /// Ingress rules' host; absent: any host (or the route's hostnames).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The path matched, with its type: "/api (Prefix)"; "(default backend)" for an
    /// Ingress's defaultBackend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// service NS/NAME, or KIND NS/NAME for other backends (not followed).
    pub target: String,
    /// The port as written: a number or a name; absent when none is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    /// Whether the Service and port exist; absent when unknown (not a Service, or unread).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved: Option<bool>,
}

/// `trace --host --path`: the routes that match, best first; the first is followed.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TraceEntry {
    pub host: String,
    pub path: String,
    pub matches: Vec<RouteMatch>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RouteMatch {
    /// "ingress NS/NAME", "httproute NS/NAME".
    pub route: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parents: Vec<String>,
    /// The host and path that matched, as written in the route.
    pub rule: String,
    pub backend: BackendRow,
    /// The route's problems (and its parents'), each hop checked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Problem>,
}
