//! From outside in (#19): Ingresses and Gateway API routes followed to their Services, with
//! the classes and Gateways they rest on. Status is read as the controllers write it; whether a
//! controller runs is decided from the pods already read, by the labels its usual install
//! gives them, and is unknown for a controller netcheck does not know.

use crate::model::*;
use crate::report::{
    BackendRow, ClassRow, GatewayRow, ListenerRow, Problem, RouteApi, RouteMatch, RouteRow,
    RoutesAnswer, Scope, ServicesAnswer, Severity, TraceEntry,
};
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// Controllers known by their pods' labels: (controller, who, labels all carried).
type Controller = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

const CONTROLLERS: &[Controller] = &[
    (
        "k8s.io/ingress-nginx",
        "ingress-nginx",
        &[
            ("app.kubernetes.io/name", "ingress-nginx"),
            ("app.kubernetes.io/component", "controller"),
        ],
    ),
    (
        "traefik.io/ingress-controller",
        "Traefik",
        &[("app.kubernetes.io/name", "traefik")],
    ),
    (
        "traefik.io/gateway-controller",
        "Traefik",
        &[("app.kubernetes.io/name", "traefik")],
    ),
    (
        "gateway.envoyproxy.io/gatewayclass-controller",
        "Envoy Gateway",
        &[("control-plane", "envoy-gateway")],
    ),
    (
        "istio.io/gateway-controller",
        "istiod",
        &[("app", "istiod")],
    ),
];

const GATEWAY_GROUP: &str = "gateway.networking.k8s.io";
const DEFAULT_CLASS: &str = "ingressclass.kubernetes.io/is-default-class";
const CLASS_ANNOTATION: &str = "kubernetes.io/ingress.class";

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct IngressSpec {
    ingress_class_name: Option<String>,
    default_backend: Option<IngressBackend>,
    tls: Vec<IngressTls>,
    rules: Vec<IngressRule>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(rename_all = "camelCase", default)]
struct IngressBackend {
    service: Option<BackendService>,
    resource: Option<TypedRef>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct BackendService {
    name: String,
    port: ServiceBackendPort,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct ServiceBackendPort {
    number: Option<i32>,
    name: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct TypedRef {
    kind: String,
    name: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct IngressTls {
    hosts: Vec<String>,
    secret_name: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct IngressRule {
    host: Option<String>,
    http: Option<IngressHttp>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct IngressHttp {
    paths: Vec<IngressPath>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct IngressPath {
    path: Option<String>,
    path_type: Option<String>,
    backend: IngressBackend,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct IngressStatus {
    load_balancer: LoadBalancerStatus,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct ClassSpec {
    /// IngressClass
    controller: String,
    /// GatewayClass
    controller_name: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Conditions {
    conditions: Vec<Condition>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct GatewaySpec {
    gateway_class_name: String,
    listeners: Vec<Listener>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Listener {
    name: String,
    hostname: Option<String>,
    port: i64,
    protocol: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct GatewayStatus {
    addresses: Vec<GatewayAddress>,
    conditions: Vec<Condition>,
    listeners: Vec<ListenerStatus>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct GatewayAddress {
    value: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct ListenerStatus {
    name: String,
    attached_routes: i64,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct RouteSpec {
    parent_refs: Vec<ObjectRef>,
    hostnames: Vec<String>,
    rules: Vec<RouteRule>,
}

/// A parentRef or backendRef: group and kind default by the field (Gateway, Service).
#[derive(Deserialize, Default, Clone, PartialEq)]
#[serde(rename_all = "camelCase", default)]
struct ObjectRef {
    group: Option<String>,
    kind: Option<String>,
    namespace: Option<String>,
    name: String,
    section_name: Option<String>,
    port: Option<i32>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct RouteRule {
    matches: Vec<RouteMatchSpec>,
    backend_refs: Vec<ObjectRef>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RouteMatchSpec {
    path: Option<PathMatch>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PathMatch {
    #[serde(rename = "type")]
    kind: Option<String>,
    value: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct RouteStatus {
    parents: Vec<RouteParentStatus>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct RouteParentStatus {
    parent_ref: ObjectRef,
    controller_name: String,
    conditions: Vec<Condition>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct GrantSpec {
    from: Vec<GrantFrom>,
    to: Vec<GrantTo>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct GrantFrom {
    group: String,
    kind: String,
    namespace: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct GrantTo {
    group: String,
    kind: String,
    name: Option<String>,
}

/// The API server validated these objects; a field that still does not parse is left out.
fn parse<T: DeserializeOwned + Default>(v: &serde_json::Value) -> T {
    if v.is_null() {
        return T::default();
    }
    serde_json::from_value(v.clone()).unwrap_or_default()
}

fn problem(id: &str, severity: Severity, detail: String) -> Problem {
    Problem {
        id: id.into(),
        severity,
        detail,
    }
}

fn condition<'a>(cs: &'a [Condition], kind: &str) -> Option<&'a Condition> {
    cs.iter().find(|c| c.kind == kind)
}

/// "Reason: message", as the controller wrote them.
fn words(c: &Condition) -> String {
    match (c.reason.as_deref(), c.message.as_deref()) {
        (Some(r), Some(m)) if !m.is_empty() => format!("{r}: {m}"),
        (Some(r), _) => r.to_string(),
        (None, Some(m)) => m.to_string(),
        (None, None) => "no reason given".into(),
    }
}

/// Whether a controller runs, and how that was decided.
fn running(c: &Cluster, controller: &str) -> (String, String) {
    let Some((_, who, labels)) = CONTROLLERS.iter().find(|(n, ..)| *n == controller) else {
        return (
            "unknown".into(),
            format!("{controller} is not a controller netcheck knows by its pods"),
        );
    };
    let want = labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    if let Some(e) = c.error_for(what::PODS) {
        return (
            "unknown".into(),
            format!(
                "the pods, where {who} is looked for ({want}), could not be read: {}",
                e.reason
            ),
        );
    }
    let full = c
        .pods
        .iter()
        .filter(|p| labels.iter().all(|(k, v)| p.metadata.label(k) == Some(v)))
        .filter(|p| !p.finished() && p.metadata.deletion_timestamp.is_none())
        .map(|p| (format!("{}/{}", p.metadata.ns(), p.name()), p.ready()));
    let reduced = c
        .workload_pods
        .iter()
        .filter(|w| labels.iter().all(|(k, v)| w.labels.get(k) == Some(v)))
        .filter(|w| !w.finished && !w.terminating)
        .map(|w| (format!("{}/{}", w.namespace, w.name), w.ready));
    let pods: Vec<(String, bool)> = full.chain(reduced).collect();
    let ready: Vec<&str> = pods.iter().filter(|p| p.1).map(|p| p.0.as_str()).collect();
    if !ready.is_empty() {
        return (
            "yes".into(),
            format!("{who}: pod {} Ready ({want})", ready.join(", ")),
        );
    }
    let detail = if pods.is_empty() {
        format!("{who}: no pod labelled {want}, as its usual install labels them")
    } else {
        let names: Vec<&str> = pods.iter().map(|p| p.0.as_str()).collect();
        format!("{who}: pod {} not Ready ({want})", names.join(", "))
    };
    ("no".into(), detail)
}

/// How one kind was read.
fn api_state(c: &Cluster, versions: &[ApiType]) -> RouteApi {
    let resource = versions[0].resource();
    let read = |status: &str| RouteApi {
        resource: resource.clone(),
        status: status.into(),
        ..Default::default()
    };
    if let Some(e) = c.error_for(&what::object(&versions[0], None)) {
        return RouteApi {
            reason: Some(e.reason.clone()),
            ..read("skipped")
        };
    }
    let version = versions
        .iter()
        .find(|t| c.objects.iter().any(|o| o.is(t)))
        .map(|t| t.version.to_string());
    match (&c.route_apis, version) {
        (_, Some(v)) => RouteApi {
            version: Some(v),
            ..read("served")
        },
        (Some(served), None) if served.contains(&resource) => read("served"),
        (Some(_), None) => read("not-installed"),
        (None, None) => read("not-read"),
    }
}

struct Lookup<'a> {
    c: &'a Cluster,
    services_read: bool,
}

impl Lookup<'_> {
    /// Whether a Service port is there: resolved Some(true/false), or None when unknown; a
    /// problem id and detail when it does not resolve.
    fn backend(&self, ns: &str, name: &str, port: Option<&str>) -> Result<Option<bool>, String> {
        if !self.services_read {
            return Ok(None);
        }
        let Some(s) = self
            .c
            .services
            .iter()
            .find(|s| s.metadata.ns() == ns && s.metadata.name == name)
        else {
            return Err(format!("service {ns}/{name} does not exist"));
        };
        let Some(p) = port else { return Ok(Some(true)) };
        // An ExternalName Service may list no ports: the name is all there is.
        if s.kind() == "ExternalName" && s.spec.ports.is_empty() {
            return Ok(Some(true));
        }
        let found = s.spec.ports.iter().any(|sp| match p.parse::<i32>() {
            Ok(n) => sp.port == n,
            Err(_) => sp.name.as_deref() == Some(p),
        });
        if found {
            return Ok(Some(true));
        }
        let have: Vec<String> = s
            .spec
            .ports
            .iter()
            .map(|sp| match &sp.name {
                Some(n) => format!("{}/{n}", sp.port),
                None => sp.port.to_string(),
            })
            .collect();
        Err(format!(
            "port {p} is not a port of service {ns}/{name} (its ports: {})",
            if have.is_empty() {
                "none".into()
            } else {
                have.join(", ")
            }
        ))
    }
}

/// Every class, Gateway and route of the cluster, each checked; `None` when none of their
/// APIs was read and none of their objects is held.
pub fn discover(c: &Cluster) -> Option<RoutesAnswer> {
    let apis: Vec<RouteApi> = ROUTE_APIS.iter().map(|v| api_state(c, v)).collect();
    if apis.iter().all(|a| a.status == "not-read") {
        return None;
    }
    let unread = |v: &[ApiType]| c.error_for(&what::object(&v[0], None)).is_some();
    let look = Lookup {
        c,
        services_read: c.error_for(what::SERVICES).is_none(),
    };
    let mut classes = ingress_classes(c);
    classes.extend(gateway_classes(c));
    let gateways = gateways(c, &classes, unread(GATEWAY_CLASSES));
    let mut routes = ingresses(c, &classes, unread(&[INGRESS_CLASS]), &look);
    let gateways_read = !unread(GATEWAYS);
    let grants = (!unread(REFERENCE_GRANTS)).then(|| grants(c));
    for kind in [HTTP_ROUTES, GRPC_ROUTES, TLS_ROUTES, TCP_ROUTES] {
        for o in c.objects.iter().filter(|o| o.is_any(kind)) {
            routes.push(route(o, &gateways, gateways_read, grants.as_deref(), &look));
        }
    }
    routes.sort_by(|a, b| (&a.namespace, &a.name, &a.kind).cmp(&(&b.namespace, &b.name, &b.kind)));
    Some(RoutesAnswer {
        apis,
        classes,
        gateways,
        routes,
    })
}

fn ingress_classes(c: &Cluster) -> Vec<ClassRow> {
    let mut v: Vec<ClassRow> = c
        .objects_of(&INGRESS_CLASS)
        .map(|o| {
            let controller = parse::<ClassSpec>(&o.spec).controller;
            let (running, running_evidence) = running(c, &controller);
            ClassRow {
                kind: "IngressClass".into(),
                name: o.metadata.name.to_string(),
                default: o
                    .metadata
                    .annotations
                    .get(DEFAULT_CLASS)
                    .map(|v| v.as_str())
                    == Some("true"),
                controller,
                running,
                running_evidence,
                status: "ok".into(),
                ..Default::default()
            }
        })
        .collect();
    v.sort_by(|a, b| a.name.cmp(&b.name));
    v
}

fn gateway_classes(c: &Cluster) -> Vec<ClassRow> {
    let mut v: Vec<ClassRow> = c
        .objects
        .iter()
        .filter(|o| o.is_any(GATEWAY_CLASSES))
        .map(|o| {
            let controller = parse::<ClassSpec>(&o.spec).controller_name;
            let (running, running_evidence) = running(c, &controller);
            let conds = parse::<Conditions>(&o.status).conditions;
            let accepted = condition(&conds, "Accepted").map(|a| match a.status.as_str() {
                "True" => "True".to_string(),
                s => format!("{s} ({})", words(a)),
            });
            let mut problems = vec![];
            if running == "no" {
                problems.push(problem(
                    "gatewayclass-controller-absent",
                    Severity::Warning,
                    format!("controller {controller}: {running_evidence}"),
                ));
            }
            ClassRow {
                kind: "GatewayClass".into(),
                name: o.metadata.name.to_string(),
                controller,
                default: false,
                running,
                running_evidence,
                accepted,
                status: Problem::status(&problems),
                problems,
            }
        })
        .collect();
    v.sort_by(|a, b| a.name.cmp(&b.name));
    v
}

fn class_of<'a>(classes: &'a [ClassRow], kind: &str, name: &str) -> Option<&'a ClassRow> {
    classes.iter().find(|k| k.kind == kind && k.name == name)
}

fn gateways(c: &Cluster, classes: &[ClassRow], classes_unread: bool) -> Vec<GatewayRow> {
    let mut v: Vec<GatewayRow> = c
        .objects
        .iter()
        .filter(|o| o.is_any(GATEWAYS))
        .map(|o| {
            let spec: GatewaySpec = parse(&o.spec);
            let st: GatewayStatus = parse(&o.status);
            // Gateway API before v0.7 said Ready where it now says Programmed.
            let prog = condition(&st.conditions, "Programmed")
                .or_else(|| condition(&st.conditions, "Ready"));
            let class = &spec.gateway_class_name;
            let mut problems = vec![];
            let why_none = match class_of(classes, "GatewayClass", class) {
                _ if prog.is_some() => None,
                None if classes_unread => Some(format!(
                    "no Programmed condition; GatewayClass {class} unknown (GatewayClasses could not be read)"
                )),
                None => Some(format!(
                    "no Programmed condition: GatewayClass {class} does not exist, so no controller takes it"
                )),
                Some(k) => Some(format!(
                    "no Programmed condition: its controller has not written status (GatewayClass {class}, controller {}: {})",
                    k.controller, k.running_evidence
                )),
            };
            if let Some(d) = why_none {
                problems.push(problem("gateway-not-programmed", Severity::Error, d));
            } else if let Some(p) = prog.filter(|p| p.status != "True") {
                problems.push(problem(
                    "gateway-not-programmed",
                    Severity::Error,
                    format!("{} {}: {}", p.kind, p.status, words(p)),
                ));
            }
            let listeners: Vec<ListenerRow> = spec
                .listeners
                .iter()
                .map(|l| ListenerRow {
                    name: l.name.clone(),
                    protocol: l.protocol.clone(),
                    port: l.port,
                    hostname: l.hostname.clone(),
                    attached_routes: st
                        .listeners
                        .iter()
                        .find(|s| s.name == l.name)
                        .map(|s| s.attached_routes),
                })
                .collect();
            for l in listeners.iter().filter(|l| l.attached_routes == Some(0)) {
                problems.push(problem(
                    "gateway-listener-unused",
                    Severity::Info,
                    format!("listener {} ({} {}) has no route attached", l.name, l.protocol, l.port),
                ));
            }
            GatewayRow {
                namespace: o.metadata.ns().into(),
                name: o.metadata.name.to_string(),
                class: class.clone(),
                addresses: st.addresses.into_iter().map(|a| a.value).collect(),
                programmed: prog.map(|p| p.status == "True"),
                listeners,
                status: Problem::status(&problems),
                problems,
            }
        })
        .collect();
    v.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    v
}

fn port_text(p: &ServiceBackendPort) -> Option<String> {
    p.number.map(|n| n.to_string()).or_else(|| p.name.clone())
}

fn ingresses(
    c: &Cluster,
    classes: &[ClassRow],
    classes_unread: bool,
    look: &Lookup,
) -> Vec<RouteRow> {
    c.objects_of(&INGRESS)
        .map(|o| {
            let ns = o.metadata.ns();
            let spec: IngressSpec = parse(&o.spec);
            let status: IngressStatus = parse(&o.status);
            let mut problems = vec![];
            let mut parents = vec![];
            let by_annotation = o.metadata.annotations.get(CLASS_ANNOTATION);
            let named = spec.ingress_class_name.as_deref().or(by_annotation.map(|a| a.as_str()));
            let defaults: Vec<&ClassRow> = classes
                .iter()
                .filter(|k| k.kind == "IngressClass" && k.default)
                .collect();
            let class = match named {
                Some(n) => {
                    parents.push(format!("ingressclass {n}"));
                    let k = class_of(classes, "IngressClass", n);
                    // The annotation predates IngressClass objects: controllers match it by
                    // their own flag, so a name without an object is not an error there.
                    if k.is_none() && !classes_unread && spec.ingress_class_name.is_some() {
                        problems.push(problem(
                            "ingress-class-missing",
                            Severity::Error,
                            format!("IngressClass {n} does not exist"),
                        ));
                    }
                    k
                }
                None if classes_unread => None,
                None => match defaults[..] {
                    [k] => {
                        parents.push(format!("ingressclass {} (default)", k.name));
                        Some(k)
                    }
                    [] => {
                        problems.push(problem(
                            "ingress-class-missing",
                            Severity::Warning,
                            format!("no ingressClassName, no {CLASS_ANNOTATION} annotation, and no IngressClass is marked default ({DEFAULT_CLASS}): controllers leave it alone"),
                        ));
                        None
                    }
                    // The API server refuses new classless Ingresses then; older ones stay.
                    _ => {
                        let names: Vec<&str> = defaults.iter().map(|k| k.name.as_str()).collect();
                        problems.push(problem(
                            "ingress-class-missing",
                            Severity::Warning,
                            format!("no class named, and {} IngressClasses are marked default ({})", names.len(), names.join(", ")),
                        ));
                        None
                    }
                },
            };
            if let Some(k) = class.filter(|k| k.running == "no") {
                problems.push(problem(
                    "ingress-controller-absent",
                    Severity::Warning,
                    format!("IngressClass {} (controller {}): {}", k.name, k.controller, k.running_evidence),
                ));
            }
            let mut backends = vec![];
            let mut each = |host: Option<&String>, path: Option<String>, b: &IngressBackend| {
                let mut row = BackendRow {
                    host: host.cloned(),
                    path,
                    ..Default::default()
                };
                match (&b.service, &b.resource) {
                    (Some(s), _) => {
                        row.target = format!("service {ns}/{}", s.name);
                        row.port = port_text(&s.port);
                        match look.backend(ns, &s.name, row.port.as_deref()) {
                            Ok(r) => row.resolved = r,
                            Err(d) => {
                                row.resolved = Some(false);
                                let id = if d.starts_with("port") {
                                    "ingress-backend-port-missing"
                                } else {
                                    "ingress-backend-missing"
                                };
                                problems.push(problem(id, Severity::Error, format!("{}: {d}", where_(&row))));
                            }
                        }
                    }
                    (None, Some(r)) => row.target = format!("{} {ns}/{}", r.kind, r.name),
                    (None, None) => row.target = "none".into(),
                }
                backends.push(row);
            };
            if let Some(b) = &spec.default_backend {
                each(None, Some("(default backend)".into()), b);
            }
            for r in &spec.rules {
                for p in r.http.iter().flat_map(|h| &h.paths) {
                    let path = format!(
                        "{} ({})",
                        p.path.as_deref().unwrap_or("/"),
                        p.path_type.as_deref().unwrap_or("ImplementationSpecific")
                    );
                    each(r.host.as_ref(), Some(path), &p.backend);
                }
            }
            let addresses: Vec<String> = status
                .load_balancer
                .ingress
                .iter()
                .filter_map(|i| Some(i.ip.as_ref().or(i.hostname.as_ref())?.to_string()))
                .collect();
            if addresses.is_empty() {
                problems.push(problem(
                    "ingress-no-address",
                    Severity::Warning,
                    "no address in status.loadBalancer: no controller has admitted it, or its controller does not publish one".into(),
                ));
            }
            let tls_secrets: Vec<String> = spec
                .tls
                .iter()
                .filter_map(|t| t.secret_name.as_ref().map(|s| format!("{ns}/{s}")))
                .collect();
            if !tls_secrets.is_empty() {
                problems.push(problem(
                    "ingress-tls-unverified",
                    Severity::Info,
                    format!("TLS secret {} not verified (netcheck reads no Secrets)", tls_secrets.join(", ")),
                ));
            }
            let mut hostnames: Vec<String> =
                spec.rules.iter().filter_map(|r| r.host.clone()).collect();
            hostnames.dedup();
            RouteRow {
                kind: "Ingress".into(),
                namespace: ns.into(),
                name: o.metadata.name.to_string(),
                parents,
                hostnames,
                addresses,
                tls_secrets,
                backends,
                status: Problem::status(&problems),
                problems,
            }
        })
        .collect()
}

/// "host/path" of a backend row, for details.
fn where_(b: &BackendRow) -> String {
    let path = b.path.as_deref().unwrap_or("");
    match &b.host {
        Some(h) => format!("{h} {path} -> {}", b.target),
        None if path.is_empty() => b.target.clone(),
        None => format!("{path} -> {}", b.target),
    }
}

/// (grant's namespace, spec)
fn grants(c: &Cluster) -> Vec<(String, GrantSpec)> {
    c.objects
        .iter()
        .filter(|o| o.is_any(REFERENCE_GRANTS))
        .map(|o| (o.metadata.ns().to_string(), parse(&o.spec)))
        .collect()
}

fn permitted(
    grants: &[(String, GrantSpec)],
    kind: &str,
    from_ns: &str,
    to_ns: &str,
    svc: &str,
) -> bool {
    grants.iter().any(|(ns, g)| {
        ns == to_ns
            && g.from
                .iter()
                .any(|f| f.group == GATEWAY_GROUP && f.kind == kind && f.namespace == from_ns)
            && g.to.iter().any(|t| {
                t.group.is_empty()
                    && t.kind == "Service"
                    && t.name.as_deref().is_none_or(|n| n == svc)
            })
    })
}

fn route(
    o: &ApiObject,
    gateways: &[GatewayRow],
    gateways_read: bool,
    grants: Option<&[(String, GrantSpec)]>,
    look: &Lookup,
) -> RouteRow {
    let ns = o.metadata.ns();
    let kind = o.kind.as_str();
    let spec: RouteSpec = parse(&o.spec);
    let status: RouteStatus = parse(&o.status);
    let mut problems = vec![];
    let mut parents = vec![];
    for p in &spec.parent_refs {
        let pns = p.namespace.as_deref().unwrap_or(ns);
        let pkind = p.kind.as_deref().unwrap_or("Gateway");
        let section = p
            .section_name
            .as_ref()
            .map(|s| format!(":{s}"))
            .unwrap_or_default();
        if pkind != "Gateway" {
            // A Service parent is a mesh (GAMMA) route: east-west, not from outside.
            parents.push(format!(
                "{} {pns}/{}{section}",
                pkind.to_lowercase(),
                p.name
            ));
            continue;
        }
        parents.push(format!("gateway {pns}/{}{section}", p.name));
        let found = gateways
            .iter()
            .any(|g| g.namespace == pns && g.name == p.name);
        if gateways_read && !found {
            problems.push(problem(
                "route-parent-missing",
                Severity::Error,
                format!("parent gateway {pns}/{} does not exist", p.name),
            ));
        }
    }
    let mut unresolved = vec![];
    for ps in &status.parents {
        let pns = ps.parent_ref.namespace.as_deref().unwrap_or(ns);
        let who = format!(
            "gateway {pns}/{} ({})",
            ps.parent_ref.name, ps.controller_name
        );
        if let Some(a) = condition(&ps.conditions, "Accepted").filter(|a| a.status == "False") {
            problems.push(problem(
                "route-not-accepted",
                Severity::Error,
                format!("{who}: Accepted False, {}", words(a)),
            ));
        }
        if let Some(r) = condition(&ps.conditions, "ResolvedRefs").filter(|r| r.status == "False") {
            unresolved.push(format!("{who}: ResolvedRefs False, {}", words(r)));
        }
    }
    let mut backends = vec![];
    let mut own = 0;
    for rule in &spec.rules {
        let path = rule
            .matches
            .iter()
            .find_map(|m| m.path.as_ref())
            .map(|p| {
                format!(
                    "{} ({})",
                    p.value.as_deref().unwrap_or("/"),
                    p.kind.as_deref().unwrap_or("PathPrefix")
                )
            })
            .or_else(|| (kind == "HTTPRoute").then(|| "/ (PathPrefix)".into()));
        for b in &rule.backend_refs {
            let bns = b.namespace.as_deref().unwrap_or(ns);
            let bkind = b.kind.as_deref().unwrap_or("Service");
            let core = b.group.as_deref().unwrap_or("").is_empty();
            let mut row = BackendRow {
                path: path.clone(),
                port: b.port.map(|p| p.to_string()),
                ..Default::default()
            };
            if !(core && bkind == "Service") {
                row.target = format!("{bkind} {bns}/{}", b.name);
                backends.push(row);
                continue;
            }
            row.target = format!("service {bns}/{}", b.name);
            match look.backend(bns, &b.name, row.port.as_deref()) {
                Ok(r) => row.resolved = r,
                Err(d) => {
                    row.resolved = Some(false);
                    own += 1;
                    let id = if d.starts_with("port") {
                        "route-backend-port-missing"
                    } else {
                        "route-backend-missing"
                    };
                    problems.push(problem(
                        id,
                        Severity::Error,
                        format!("{}: {d}", where_(&row)),
                    ));
                }
            }
            if bns != ns && grants.is_some_and(|g| !permitted(g, kind, ns, bns, &b.name)) {
                own += 1;
                row.resolved = Some(false);
                problems.push(problem(
                    "route-backend-not-permitted",
                    Severity::Error,
                    format!("backendRef to service {bns}/{} crosses namespaces and no ReferenceGrant in {bns} allows {kind}s from {ns}", b.name),
                ));
            }
            backends.push(row);
        }
    }
    // The controller's ResolvedRefs says what netcheck's own backend checks said, if any did:
    // once, on them.
    if !unresolved.is_empty() {
        if own > 0 {
            if let Some(p) = problems
                .iter_mut()
                .rev()
                .find(|p| p.id.starts_with("route-backend"))
            {
                p.detail = format!(
                    "{} (the controller agrees: {})",
                    p.detail,
                    unresolved.join("; ")
                );
            }
        } else {
            problems.push(problem(
                "route-refs-unresolved",
                Severity::Error,
                unresolved.join("; "),
            ));
        }
    }
    RouteRow {
        kind: kind.into(),
        namespace: ns.into(),
        name: o.metadata.name.to_string(),
        parents,
        hostnames: spec.hostnames,
        addresses: vec![],
        tls_secrets: vec![],
        backends,
        status: Problem::status(&problems),
        problems,
    }
}

/// "ingress NS/NAME", "httproute NS/NAME".
pub fn route_name(r: &RouteRow) -> String {
    format!("{} {}/{}", r.kind.to_lowercase(), r.namespace, r.name)
}

/// The Services answer joined with the routes: each Service row names what reaches it, and
/// the routes shown are those of the scope (a namespace, one Service).
pub fn join(c: &Cluster, s: &mut ServicesAnswer, scope: &Scope) {
    let Some(mut a) = discover(c) else { return };
    for row in &mut s.services {
        let target = format!("service {}/{}", row.namespace, row.name);
        row.reached_by = a
            .routes
            .iter()
            .filter(|r| r.backends.iter().any(|b| b.target == target))
            .map(route_name)
            .collect();
    }
    if let Some(ns) = &scope.namespace {
        let target = scope.service.as_ref().map(|n| format!("service {ns}/{n}"));
        a.routes.retain(|r| match &target {
            Some(t) => r.backends.iter().any(|b| &b.target == t),
            None => {
                &r.namespace == ns
                    || r.backends
                        .iter()
                        .any(|b| b.target.starts_with(&format!("service {ns}/")))
            }
        });
    }
    s.routes = Some(a);
}

/// Whether a host name matches a route's or rule's host, wildcards covering one label or more
/// (Gateway API) as Ingress's cover exactly one.
fn host_matches(pattern: &str, host: &str, ingress: bool) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => host
            .strip_suffix(suffix)
            .and_then(|p| p.strip_suffix('.'))
            .is_some_and(|label| !label.is_empty() && (!ingress || !label.contains('.'))),
        None => pattern.eq_ignore_ascii_case(host),
    }
}

/// Whether a path matches, and how strongly (longer wins; exact beats prefix).
fn path_score(value: &str, kind: &str, path: &str) -> Option<(usize, bool)> {
    match kind {
        "Exact" => (value == path).then_some((value.len(), true)),
        "RegularExpression" => None,
        // Prefix, PathPrefix, ImplementationSpecific (taken as a prefix): element-wise.
        _ => {
            let v = value.trim_end_matches('/');
            let ok = v.is_empty()
                || path == v
                || path
                    .strip_prefix(v)
                    .is_some_and(|rest| rest.starts_with('/'));
            ok.then_some((v.len(), false))
        }
    }
}

/// Problems that mean a route carries no traffic at all.
const DEAD: &[&str] = &[
    "route-not-accepted",
    "route-parent-missing",
    "ingress-class-missing",
];

/// `trace --host --path`: the routes whose rules match, best first (one that carries traffic
/// before one that cannot, an exact host before a wildcard, then the longest path, exact
/// before prefix). An error when none does.
pub fn resolve(c: &Cluster, host: &str, path: &str) -> Result<TraceEntry, String> {
    let Some(a) = discover(c) else {
        return Err("Ingresses and Gateway API routes were not read: this snapshot predates netcheck reading them, or is a cluster-info dump, which holds none".into());
    };
    let mut found: Vec<((bool, bool, usize, bool), RouteMatch)> = vec![];
    for r in &a.routes {
        let ingress = r.kind == "Ingress";
        // A route's hostnames (none: every host), or each Ingress rule's host.
        let route_host = |h: &str| {
            r.hostnames.is_empty() || r.hostnames.iter().any(|p| host_matches(p, h, false))
        };
        for b in &r.backends {
            let host_ok = if ingress {
                b.host
                    .as_deref()
                    .is_none_or(|p| host_matches(p, host, true))
            } else {
                route_host(host)
            };
            let exact_host = if ingress {
                b.host.as_deref() == Some(host)
            } else {
                r.hostnames.iter().any(|h| h == host)
            };
            let Some(p) = b.path.as_deref() else { continue };
            let score = if p == "(default backend)" {
                Some((0, false))
            } else {
                let (value, kind) = p
                    .rsplit_once(" (")
                    .map(|(v, k)| (v, k.trim_end_matches(')')))
                    .unwrap_or((p, "Prefix"));
                path_score(value, kind, path)
            };
            let Some((len, exact)) = score.filter(|_| host_ok) else {
                continue;
            };
            // A route its controller refused, or that nothing carries, takes no traffic.
            let carried = !r.problems.iter().any(|p| DEAD.contains(&p.id.as_str()));
            let mut problems = r.problems.clone();
            for g in &a.gateways {
                if r.parents.iter().any(|p| {
                    p.split(':').next() == Some(&format!("gateway {}/{}", g.namespace, g.name))
                }) {
                    problems.extend(
                        g.problems
                            .iter()
                            .filter(|p| p.id == "gateway-not-programmed")
                            .cloned(),
                    );
                }
            }
            found.push((
                (carried, exact_host, len, exact),
                RouteMatch {
                    route: route_name(r),
                    parents: r.parents.clone(),
                    rule: format!(
                        "{} {p}",
                        b.host
                            .as_deref()
                            .or(r.hostnames.first().map(String::as_str))
                            .unwrap_or("*")
                    ),
                    backend: b.clone(),
                    problems,
                },
            ));
        }
    }
    if found.is_empty() {
        return Err(format!(
            "no Ingress or route matches host {host} path {path}"
        ));
    }
    found.sort_by_key(|f| std::cmp::Reverse(f.0));
    // Within one route its best rule is the one taken.
    let mut matches: Vec<RouteMatch> = vec![];
    for (_, m) in found {
        if !matches.iter().any(|x| x.route == m.route) {
            matches.push(m);
        }
    }
    Ok(TraceEntry {
        host: host.into(),
        path: path.into(),
        matches,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cluster(objects: serde_json::Value, errors: &[&str]) -> Cluster {
        let mut c: Cluster = serde_json::from_value(json!({
            "apiVersion": "netcheck/v1", "kind": "Snapshot",
            "services": [{"metadata": {"name": "web", "namespace": "shop"},
                          "spec": {"ports": [{"name": "http", "port": 80}]}}],
            "objects": objects,
        }))
        .unwrap();
        c.route_apis = Some(vec![]);
        c.errors = errors
            .iter()
            .map(|w| CollectError {
                what: w.to_string(),
                reason: "403 Forbidden".into(),
                needs: None,
            })
            .collect();
        c
    }

    fn ingress(
        name: &str,
        class: Option<&str>,
        annotation: Option<&str>,
        port: serde_json::Value,
    ) -> serde_json::Value {
        let mut o = json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": name, "namespace": "shop"},
            "spec": {"rules": [{"host": "a.example.com", "http": {"paths": [
                {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": port}}}]}}]},
            "status": {"loadBalancer": {"ingress": [{"hostname": "lb.example.com"}]}}});
        if let Some(c) = class {
            o["spec"]["ingressClassName"] = json!(c);
        }
        if let Some(a) = annotation {
            o["metadata"]["annotations"] = json!({CLASS_ANNOTATION: a});
        }
        o
    }

    fn class(name: &str, controller: &str, default: bool) -> serde_json::Value {
        let mut o = json!({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
            "metadata": {"name": name}, "spec": {"controller": controller}});
        if default {
            o["metadata"]["annotations"] = json!({DEFAULT_CLASS: "true"});
        }
        o
    }

    fn ids(a: &RoutesAnswer, name: &str) -> Vec<String> {
        let r = a.routes.iter().find(|r| r.name == name).unwrap();
        r.problems.iter().map(|p| p.id.clone()).collect()
    }

    #[test]
    fn classes_by_name_annotation_and_default() {
        let c = cluster(
            json!([
                class("nginx", "k8s.io/ingress-nginx", true),
                class("other", "example.com/lb", true),
                ingress("named", Some("nginx"), None, json!({"name": "http"})),
                ingress(
                    "by-annotation",
                    None,
                    Some("internal"),
                    json!({"number": 80})
                ),
                ingress("two-defaults", None, None, json!({"number": 80})),
            ]),
            &[],
        );
        let a = discover(&c).unwrap();
        // No pod labelled as ingress-nginx's install labels it: not found, a warning.
        assert_eq!(ids(&a, "named"), ["ingress-controller-absent"]);
        assert!(ids(&a, "by-annotation").is_empty());
        assert_eq!(ids(&a, "two-defaults"), ["ingress-class-missing"]);
        let other = a.classes.iter().find(|k| k.name == "other").unwrap();
        assert_eq!(other.running, "unknown");
    }

    #[test]
    fn unread_pods_services_and_classes_judge_nothing_that_rests_on_them() {
        let c = cluster(
            json!([
                class("nginx", "k8s.io/ingress-nginx", true),
                ingress("missing-port", Some("nginx"), None, json!({"number": 8080})),
            ]),
            &[what::PODS, what::SERVICES],
        );
        let a = discover(&c).unwrap();
        assert!(ids(&a, "missing-port").is_empty(), "{:?}", a.routes);
        assert_eq!(a.classes[0].running, "unknown");
        assert_eq!(a.routes[0].backends[0].resolved, None);
        // Services read: the port is judged.
        let c = cluster(
            json!([ingress("missing-port", None, None, json!({"number": 8080}))]),
            &["ingressclasses.networking.k8s.io"],
        );
        let a = discover(&c).unwrap();
        assert_eq!(ids(&a, "missing-port"), ["ingress-backend-port-missing"]);
        let api = a
            .apis
            .iter()
            .find(|x| x.resource == "ingressclasses.networking.k8s.io");
        assert_eq!(api.unwrap().status, "skipped");
    }

    #[test]
    fn tcp_routes_are_checked_without_paths_and_a_classless_gateway_is_not_programmed() {
        let route = json!({"apiVersion": "gateway.networking.k8s.io/v1alpha2", "kind": "TCPRoute",
            "metadata": {"name": "db", "namespace": "shop"},
            "spec": {"parentRefs": [{"name": "gw", "sectionName": "pg"}],
                     "rules": [{"backendRefs": [{"name": "web", "port": 5432}]}]}});
        let gw = json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
            "metadata": {"name": "gw", "namespace": "shop"},
            "spec": {"gatewayClassName": "none", "listeners": [{"name": "pg", "protocol": "TCP", "port": 5432}]}});
        let a = discover(&cluster(json!([route, gw]), &[])).unwrap();
        let r = &a.routes[0];
        assert_eq!(r.parents, ["gateway shop/gw:pg"]);
        assert_eq!(r.backends[0].path, None);
        assert_eq!(ids(&a, "db"), ["route-backend-port-missing"]);
        let g = &a.gateways[0];
        assert_eq!(g.programmed, None);
        assert_eq!(g.problems.len(), 1);
        assert!(g.problems[0]
            .detail
            .contains("GatewayClass none does not exist"));
        // No listener status was written: attachment is unknown, not "no routes".
        assert_eq!(g.listeners[0].attached_routes, None);
    }

    #[test]
    fn cross_namespace_backends_need_a_grant_unless_grants_are_unread() {
        let route = json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": {"name": "r", "namespace": "edge"},
            "spec": {"parentRefs": [{"name": "gw"}],
                     "rules": [{"backendRefs": [{"name": "web", "namespace": "shop", "port": 80}]}]}});
        let gw = json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
            "metadata": {"name": "gw", "namespace": "edge"},
            "spec": {"gatewayClassName": "x", "listeners": []},
            "status": {"conditions": [{"type": "Programmed", "status": "True"}]}});
        let a = discover(&cluster(json!([route.clone(), gw.clone()]), &[])).unwrap();
        assert_eq!(ids(&a, "r"), ["route-backend-not-permitted"]);
        let refused = cluster(
            json!([route.clone(), gw.clone()]),
            &["referencegrants.gateway.networking.k8s.io"],
        );
        assert!(ids(&discover(&refused).unwrap(), "r").is_empty());
        let grant = json!({"apiVersion": "gateway.networking.k8s.io/v1beta1", "kind": "ReferenceGrant",
            "metadata": {"name": "g", "namespace": "shop"},
            "spec": {"from": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "namespace": "edge"}],
                     "to": [{"group": "", "kind": "Service", "name": "web"}]}});
        assert!(ids(
            &discover(&cluster(json!([route, gw, grant]), &[])).unwrap(),
            "r"
        )
        .is_empty());
    }

    #[test]
    fn wildcards_cover_one_label_for_ingress_and_more_for_routes() {
        assert!(host_matches("*.example.com", "shop.example.com", true));
        assert!(!host_matches("*.example.com", "a.shop.example.com", true));
        assert!(host_matches("*.example.com", "a.shop.example.com", false));
        assert!(!host_matches("*.example.com", "example.com", false));
        assert!(host_matches("Shop.example.com", "shop.example.com", true));
    }

    #[test]
    fn prefixes_match_whole_path_elements() {
        assert_eq!(path_score("/api", "Prefix", "/api/v1"), Some((4, false)));
        assert_eq!(path_score("/api", "Prefix", "/apis"), None);
        assert_eq!(path_score("/", "PathPrefix", "/x"), Some((0, false)));
        assert_eq!(path_score("/api", "Exact", "/api"), Some((4, true)));
        assert_eq!(path_score("/api", "Exact", "/api/"), None);
        assert_eq!(path_score("/a.*", "RegularExpression", "/ab"), None);
    }
}
