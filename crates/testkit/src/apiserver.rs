//! A std-only HTTP/1.1 server on 127.0.0.1 that answers from a [`Cluster`] snapshot the way
//! kube-apiserver would: discovery, paginated lists with selectors, single objects, pod logs,
//! the dry-run Service probe, Status error bodies, plus injectable denials and faults; and
//! watches, of the changes a test makes with [`ApiServer::put`] and [`ApiServer::delete`].
//!
//! Every object is serialised once at start, so a page is a concatenation of ready strings;
//! that keeps 150,000-pod lists cheap. One thread per connection, keep-alive, Content-Length
//! framing on every response but watches (chunked, and the connection closes after). Optionally HTTPS (rustls,
//! [`Tls`]) and RBAC-style authorization from a role's rules ([`Options::allow`]).

use crate::exec;
use netcheck::collect::proto;
use netcheck::model::{
    ApiObject, Cluster, ConfigMap, DaemonSet, EndpointSlice, Endpoints, Event, IpAddress, IpPool,
    Meta, Namespace, NetworkPolicy, Node, Pod, Service, ServiceCidr, WorkloadPod, API_TYPES,
    NAMESPACE_NAME_LABEL,
};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The version every object was last written at, before any change.
const FIRST_VERSION: u64 = 12345;
/// The store's version at start (what lists say), and the oldest a watch may start from: as
/// on a real server, an object's own version is usually older than the watch history kept.
pub const STORE_VERSION: u64 = FIRST_VERSION + 100;
/// How often a watch that asked for bookmarks gets one (kube-apiserver: about a minute).
const BOOKMARK_EVERY: Duration = Duration::from_secs(60);
const DEFAULT_VERSION: &str = "v1.30.0";
const DEFAULT_TOKEN: &str = "test-token";
/// The identity named in 403 messages: what netcheck runs as in-cluster.
const DENIED_USER: &str = "system:serviceaccount:netcheck:netcheck";
const NOT_FOUND: &str = "the server could not find the requested resource";
/// The kinds whose lists are served in protobuf to clients that ask for it (the real server
/// serves every built-in kind so; these are the ones netcheck reads so).
const PROTOBUF_KINDS: &[&str] = &["Pod", "Node", "Service", "EndpointSlice"];
const MAX_LINE: u64 = 64 * 1024;
const MAX_BODY: usize = 16 << 20;

/// One request as the server saw it. `status` is 0 while it is in flight and for [`Fault::Reset`];
/// `bytes` counts response body bytes handed to the socket (less than announced when the
/// client closed the connection early, or for [`Fault::TruncatedJson`]); `at` is when the
/// request arrived, counted from the server's start.
#[derive(Clone, Debug, PartialEq)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: String,
    pub status: u16,
    pub bytes: usize,
    pub at: Duration,
    /// The request's Accept header ("" if none) and the answer's Content-Type.
    pub accept: String,
    pub content_type: &'static str,
}

#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Answer 403 Forbidden for matching requests.
    pub deny: Vec<Rule>,
    /// The first matching (and applicable) fault applies.
    pub faults: Vec<(Rule, Fault)>,
    /// If set, requests without `Authorization: Bearer <token>` get 401.
    pub token: Option<String>,
    /// Server-side cap on `limit`; also applies when the client sends no limit, so that
    /// clients which never follow `continue` are caught losing items.
    pub max_page: Option<usize>,
    /// Adds fields to each served object (by kind) before it is stored, e.g. the bulk a real
    /// API server sends (managedFields, volumes, probes) that the model does not keep.
    pub decorate: Option<fn(&str, &mut Value)>,
    /// Authorization by allow-list, as RBAC does it: if set, a request that no rule allows gets
    /// 403. Nothing is allowed implicitly (not even discovery or /version), so a role's rules
    /// alone must carry the client.
    pub allow: Option<Vec<PolicyRule>>,
    /// Group-versions not served at all, e.g. `"apps/v1"` or `"networking.k8s.io/v1"`: their
    /// paths answer 404 and discovery omits them, like an API server without that API.
    pub without: Vec<String>,
    /// Serve HTTPS with this certificate instead of plain HTTP.
    pub tls: Option<Tls>,
    /// Answer JSON even to clients that ask for protobuf first, as a proxy in front of the API
    /// server might. Otherwise pod, Service and EndpointSlice lists (and their errors) come as
    /// protobuf when asked for.
    pub json_only: bool,
}

/// The server's certificate chain and PKCS#8/PKCS#1/SEC1 private key, PEM-encoded; `ca` (PEM),
/// if set, goes into kubeconfigs written by [`ApiServer::write_kubeconfig`] as
/// `certificate-authority-data`.
#[derive(Clone)]
pub struct Tls {
    pub cert_pem: Vec<u8>,
    pub key_pem: Vec<u8>,
    pub ca_pem: Option<Vec<u8>>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls").finish_non_exhaustive()
    }
}

/// One rule of an RBAC Role or ClusterRole (`rules[]`), deserialisable from the manifest.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyRule {
    #[serde(default)]
    pub api_groups: Vec<String>,
    #[serde(default)]
    pub resources: Vec<String>,
    #[serde(default)]
    pub resource_names: Vec<String>,
    #[serde(default, rename = "nonResourceURLs")]
    pub non_resource_urls: Vec<String>,
    #[serde(default)]
    pub verbs: Vec<String>,
}

impl PolicyRule {
    /// kube-apiserver's RBAC matching (`RuleAllows` in plugin/pkg/auth/authorizer/rbac): a
    /// resource rule needs verb, group, resource (or `*`, or `*/sub`) and, if it names any,
    /// the object's name; a non-resource rule needs verb and URL (exact, or a `prefix*`).
    fn allows(&self, verb: &str, target: &AuthTarget) -> bool {
        let any = |list: &[String], want: &str| list.iter().any(|x| x == "*" || x == want);
        if !any(&self.verbs, verb) {
            return false;
        }
        match target {
            AuthTarget::Resource {
                group,
                resource,
                sub,
                name,
            } => {
                let combined = match sub {
                    Some(sub) => format!("{resource}/{sub}"),
                    None => resource.to_string(),
                };
                any(&self.api_groups, group)
                    && self.resources.iter().any(|r| {
                        r == "*"
                            || *r == combined
                            || sub.is_some_and(|s| r.strip_prefix("*/") == Some(s))
                    })
                    && (self.resource_names.is_empty()
                        || name.is_some_and(|n| self.resource_names.iter().any(|x| x == n)))
            }
            AuthTarget::NonResource(url) => self.non_resource_urls.iter().any(|u| {
                u == "*" || u == url || u.strip_suffix('*').is_some_and(|p| url.starts_with(p))
            }),
        }
    }
}

/// What an authorizer sees of a request.
enum AuthTarget<'a> {
    Resource {
        group: &'a str,
        resource: &'a str,
        sub: Option<&'a str>,
        name: Option<&'a str>,
    },
    NonResource(&'a str),
}

/// Which requests a denial or fault applies to.
#[derive(Clone, Debug)]
pub struct Rule {
    /// None matches any method.
    pub method: Option<String>,
    pub path_prefix: String,
    /// Apply only to the first N matches; None = always.
    pub times: Option<usize>,
}

impl Rule {
    /// Any method, always, for paths starting with `prefix`.
    pub fn path(prefix: &str) -> Rule {
        Rule {
            method: None,
            path_prefix: prefix.into(),
            times: None,
        }
    }
    pub fn method(mut self, method: &str) -> Rule {
        self.method = Some(method.into());
        self
    }
    /// Apply to the first `n` matching requests only.
    pub fn first(mut self, n: usize) -> Rule {
        self.times = Some(n);
        self
    }
    fn matches(&self, method: &str, path: &str) -> bool {
        self.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && path.starts_with(&self.path_prefix)
    }
}

#[derive(Clone, Debug)]
pub enum Fault {
    /// Sleep, then answer normally.
    Delay(Duration),
    /// Answer with this code and a Status body.
    Status(u16),
    /// 429 with a Retry-After header.
    TooManyRequests { retry_after_secs: u64 },
    /// 410 Gone (reason Expired) for list requests that carry a continue token; others pass.
    GoneOnContinue,
    /// Close the connection without answering.
    Reset,
    /// Announce the full Content-Length, send half the body, close.
    TruncatedJson,
    /// Log requests stream this many bytes of filler lines, ignoring limitBytes.
    HugeLog { bytes: usize },
    /// Log requests get invalid UTF-8 around a valid `Using ipvs Proxier` line.
    InvalidUtf8Log,
}

/// A running server. Requests are checked in kube-apiserver's order: bearer token (401), deny
/// rules (403), faults, then the handler. Dropping it stops it, like [`ApiServer::stop`].
pub struct ApiServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    accept: Option<JoinHandle<()>>,
}

impl ApiServer {
    /// Serve `cluster` on an ephemeral port of 127.0.0.1.
    pub fn start(cluster: Cluster, opts: Options) -> io::Result<ApiServer> {
        Self::start_on(cluster, opts, 0)
    }

    /// Serve on a fixed port (0 = ephemeral), e.g. for a benchmark binary that keeps it running.
    pub fn start_on(cluster: Cluster, opts: Options, port: u16) -> io::Result<ApiServer> {
        let tls = opts.tls.as_ref().map(server_config).transpose()?;
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(cluster, opts, addr, tls));
        let accept = {
            let shared = shared.clone();
            thread::Builder::new()
                .name("apiserver-accept".into())
                .spawn(move || accept_loop(&shared, listener))?
        };
        Ok(ApiServer {
            shared,
            addr,
            accept: Some(accept),
        })
    }

    pub fn url(&self) -> String {
        let scheme = if self.shared.tls.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.addr)
    }

    /// The bearer token the server requires ([`Options::token`]), or the one
    /// [`ApiServer::write_kubeconfig`] puts in when none is required.
    pub fn token(&self) -> &str {
        self.shared.opts.token.as_deref().unwrap_or(DEFAULT_TOKEN)
    }

    /// Every request seen, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.shared.log).clone()
    }

    /// A kubeconfig whose current context "test" points at this server with a bearer token
    /// (and, with [`Tls::ca_pem`], the CA as `certificate-authority-data`).
    pub fn write_kubeconfig(&self, path: &std::path::Path) -> io::Result<()> {
        // A JSON string is a valid YAML double-quoted scalar, so any token is safely quoted.
        let token = serde_json::to_string(self.token()).expect("strings serialise");
        let url = self.url();
        let ca = match self
            .shared
            .opts
            .tls
            .as_ref()
            .and_then(|t| t.ca_pem.as_deref())
        {
            Some(pem) => format!("\n    certificate-authority-data: {}", base64(pem)),
            None => String::new(),
        };
        std::fs::write(
            path,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: {url}{ca}\n\
                 contexts:\n- name: test\n  context:\n    cluster: test\n    user: test\n\
                 current-context: test\nusers:\n- name: test\n  user:\n    token: {token}\n"
            ),
        )
    }

    /// Creates or replaces an object of the resource named by `plural`, as a client's write
    /// would: lists show it from now on and watches see it as ADDED or MODIFIED.
    pub fn put<T: Object>(&self, plural: &str, item: &T) {
        let d = self.shared.opts.decorate;
        let done = self.shared.write(plural, |res, rv| {
            let o = res.obj(item, d, Some(rv));
            let key = (o.ns.clone(), o.name.clone());
            let kind = match res.by_key.get(&key) {
                Some(&i) => {
                    res.objs[i] = o.clone();
                    "MODIFIED"
                }
                None => {
                    res.by_key.insert(key, res.objs.len());
                    res.objs.push(o.clone());
                    "ADDED"
                }
            };
            Some((kind, o))
        });
        assert!(done, "testkit: no resource {plural:?} is served");
    }

    /// Deletes an object; false if there was none.
    pub fn delete(&self, plural: &str, ns: &str, name: &str) -> bool {
        self.shared.write(plural, |res, _| {
            let i = res.by_key.remove(&(ns.to_string(), name.to_string()))?;
            let o = res.objs.remove(i);
            for v in res.by_key.values_mut().filter(|v| **v > i) {
                *v -= 1;
            }
            Some(("DELETED", o))
        })
    }

    /// Forgets the history of changes, as etcd's compaction does once it has moved past a
    /// watcher: every open watch ends with 410 Gone, and so does one asked to start from a
    /// version before now.
    pub fn expire(&self) {
        let mut h = lock(&self.shared.history);
        h.rv += 1;
        h.compacted = h.rv;
        h.changes.clear();
        self.shared.changed.notify_all();
    }

    /// Stop accepting, wait for the accept thread, and close every open connection.
    pub fn stop(self) {}
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // The accept loop blocks in accept(); a connection of our own wakes it to see the flag.
        // If even that fails, leave the thread detached rather than hang the caller.
        let woke = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1)).is_ok();
        if let Some(handle) = self.accept.take().filter(|_| woke) {
            let _ = handle.join();
        }
        // Idle keep-alive connections would otherwise park their threads in read() forever.
        for (_, conn) in lock(&self.shared.conns).drain() {
            let _ = conn.shutdown(Shutdown::Both);
        }
    }
}

/// Standard base64 with padding, as kubeconfig `*-data` fields hold it.
pub fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn server_config(tls: &Tls) -> io::Result<Arc<rustls::ServerConfig>> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let bad = |what: &str, e: &dyn std::fmt::Display| {
        io::Error::new(io::ErrorKind::InvalidInput, format!("TLS {what}: {e}"))
    };
    let certs = CertificateDer::pem_slice_iter(&tls.cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad("certificate", &e))?;
    let key = PrivateKeyDer::from_pem_slice(&tls.key_pem).map_err(|e| bad("key", &e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad("protocol versions", &e))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| bad("certificate and key", &e))?;
    Ok(Arc::new(config))
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking connection thread must not take the whole server (and the test) with it.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

// ---------- the pre-serialised store ----------

#[derive(Clone)]
struct Obj {
    ns: String,
    name: String,
    labels: netcheck::model::StrMap,
    node: Option<String>,
    /// Values of the fields a field selector may name besides metadata's (see `Object::fields`).
    fields: Vec<(&'static str, String)>,
    /// A pod's first container: the one a log request without `container` reads.
    container: Option<String>,
    json: String,
    /// The protobuf encoding, for the kinds served in it ([`PROTOBUF_KINDS`]).
    pb: Option<Vec<u8>>,
}

struct Resource {
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    kind: &'static str,
    namespaced: bool,
    short: Option<&'static str>,
    objs: Vec<Obj>,
    by_key: HashMap<(String, String), usize>,
}

/// group, version, plural, kind, namespaced, short name.
type Spec = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    bool,
    Option<&'static str>,
);

/// What the store needs from a model object besides its JSON.
pub trait Object: Serialize {
    fn meta(&self) -> &Meta;
    fn node(&self) -> Option<&str> {
        None
    }
    fn container(&self) -> Option<&str> {
        None
    }
    /// The fields the real server lets a field selector name for this kind, with their values.
    fn fields(&self) -> Vec<(&'static str, String)> {
        vec![]
    }
}

macro_rules! object {
    ($($t:ty),*) => { $(impl Object for $t { fn meta(&self) -> &Meta { &self.metadata } })* };
}
object!(
    Node,
    IpAddress,
    EndpointSlice,
    Endpoints,
    Service,
    ConfigMap,
    DaemonSet,
    ServiceCidr,
    IpPool,
    ApiObject,
    NetworkPolicy,
    Namespace
);

impl Object for Event {
    fn meta(&self) -> &Meta {
        &self.metadata
    }
    fn fields(&self) -> Vec<(&'static str, String)> {
        let o = &self.involved_object;
        vec![
            ("reason", self.reason.clone()),
            ("involvedObject.kind", o.kind.clone()),
            ("involvedObject.name", o.name.clone()),
            (
                "involvedObject.namespace",
                o.namespace.clone().unwrap_or_default(),
            ),
        ]
    }
}

impl Object for Pod {
    fn meta(&self) -> &Meta {
        &self.metadata
    }
    fn node(&self) -> Option<&str> {
        self.spec.node_name.as_deref()
    }
    fn container(&self) -> Option<&str> {
        self.spec.containers.first().map(|c| c.name.as_str())
    }
    fn fields(&self) -> Vec<(&'static str, String)> {
        let node = self
            .spec
            .node_name
            .as_deref()
            .unwrap_or_default()
            .to_string();
        vec![("spec.nodeName", node)]
    }
}

impl Resource {
    fn new<T: Object>(
        (group, version, plural, kind, namespaced, short): Spec,
        items: &[T],
        decorate: Option<fn(&str, &mut Value)>,
    ) -> Resource {
        let mut res = Resource {
            group,
            version,
            plural,
            kind,
            namespaced,
            short,
            objs: Vec::with_capacity(items.len()),
            by_key: HashMap::with_capacity(items.len()),
        };
        for item in items {
            let o = res.obj(item, decorate, None);
            res.by_key
                .insert((o.ns.clone(), o.name.clone()), res.objs.len());
            res.objs.push(o);
        }
        res
    }

    /// An object as stored: its JSON (and protobuf) ready to serve, with the version it was
    /// written at (that of a change, or the store's first).
    fn obj<T: Object>(
        &self,
        item: &T,
        decorate: Option<fn(&str, &mut Value)>,
        rv: Option<u64>,
    ) -> Obj {
        let (kind, gv) = (self.kind, self.gv());
        let m = item.meta();
        let mut pb = None;
        let rv = rv.unwrap_or(FIRST_VERSION).to_string();
        // The version goes into the metadata, as the real server always has one there.
        let body = match (decorate, kind) {
            (None, k) if !PROTOBUF_KINDS.contains(&k) => {
                serde_json::to_string(item).map(|b| match b.split_once(r#""metadata":{"#) {
                    Some((head, tail)) => {
                        let comma = if tail.starts_with('}') { "" } else { "," };
                        format!(r#"{head}"metadata":{{"resourceVersion":"{rv}"{comma}{tail}"#)
                    }
                    None => b,
                })
            }
            (d, _) => serde_json::to_value(item).and_then(|mut v| {
                if let Some(f) = d {
                    f(kind, &mut v);
                }
                if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
                    m.insert("resourceVersion".into(), rv.into());
                }
                if PROTOBUF_KINDS.contains(&kind) {
                    let encoded = super::proto::encode(kind, &v);
                    pb = Some(encoded.unwrap_or_else(|e| panic!("testkit protobuf: {e}")));
                }
                serde_json::to_string(&v)
            }),
        }
        .expect("model serialises");
        // Every model object has `metadata` (serialised ahead of any nested one), so `body` is
        // a non-empty object: splice the type fields in front, as the real server includes
        // them in list items.
        let json = format!(r#"{{"kind":"{kind}","apiVersion":"{gv}",{}"#, &body[1..]);
        Obj {
            ns: m.ns().into(),
            name: m.name.to_string(),
            labels: m.labels.clone(),
            node: item.node().map(Into::into),
            fields: item.fields(),
            container: item.container().map(Into::into),
            json,
            pb,
        }
    }

    fn gv(&self) -> String {
        match self.group {
            "" => self.version.to_string(),
            g => format!("{g}/{}", self.version),
        }
    }
}

fn build_resources(
    c: &Cluster,
    d: Option<fn(&str, &mut Value)>,
    without: &[String],
) -> Vec<Resource> {
    let mut out = all_resources(c, d);
    out.retain(|r| !without.contains(&r.gv()));
    out
}

fn all_resources(c: &Cluster, d: Option<fn(&str, &mut Value)>) -> Vec<Resource> {
    let reduced = c.workload_pods.iter().map(WorkloadPod::to_pod);
    let pods: Vec<Pod> = c.pods.iter().cloned().chain(reduced).collect();
    let mut out = vec![
        Resource::new(("", "v1", "nodes", "Node", false, Some("no")), &c.nodes, d),
        Resource::new(("", "v1", "pods", "Pod", true, Some("po")), &pods, d),
        Resource::new(
            ("", "v1", "services", "Service", true, Some("svc")),
            &c.services,
            d,
        ),
        Resource::new(
            ("", "v1", "configmaps", "ConfigMap", true, Some("cm")),
            &c.config_maps,
            d,
        ),
        Resource::new(
            ("", "v1", "endpoints", "Endpoints", true, Some("ep")),
            &c.endpoints,
            d,
        ),
        Resource::new(
            (
                "discovery.k8s.io",
                "v1",
                "endpointslices",
                "EndpointSlice",
                true,
                None,
            ),
            &c.endpoint_slices,
            d,
        ),
        Resource::new(
            ("apps", "v1", "daemonsets", "DaemonSet", true, Some("ds")),
            &c.daemon_sets,
            d,
        ),
    ];
    // ServiceCIDRs are split by the API version that served them; the model's own apiVersion
    // field is cleared so that only the spliced one appears.
    let cidrs = |v1: bool| -> Vec<_> {
        let is_v1 = |v: &Option<String>| v.as_deref().is_none_or(|v| v == "networking.k8s.io/v1");
        let pick = c
            .service_cidrs
            .iter()
            .filter(|s| is_v1(&s.api_version) == v1);
        pick.cloned()
            .map(|mut s| {
                s.api_version = None;
                s
            })
            .collect()
    };
    let (v1, beta) = (cidrs(true), cidrs(false));
    let spec = |version| {
        (
            "networking.k8s.io",
            version,
            "servicecidrs",
            "ServiceCIDR",
            false,
            None,
        )
    };
    // No ServiceCIDRs at all still serves an empty v1 list; all-v1beta1 means v1 is absent.
    if !v1.is_empty() || beta.is_empty() {
        out.push(Resource::new(spec("v1"), &v1, d));
    }
    if !beta.is_empty() {
        out.push(Resource::new(spec("v1beta1"), &beta, d));
    }
    // Objects of APIs only some distributions serve: their type fields are spliced in.
    for t in API_TYPES {
        let objs: Vec<ApiObject> = c
            .objects
            .iter()
            .filter(|o| o.is(t))
            .cloned()
            .map(|mut o| {
                (o.api_version, o.kind) = (String::new(), String::new());
                o
            })
            .collect();
        if !objs.is_empty() {
            let spec = (t.group, t.version, t.plural, t.kind, t.namespaced, None);
            out.push(Resource::new(spec, &objs, d));
        }
    }
    if !c.ip_pools.is_empty() {
        let spec = (
            "crd.projectcalico.org",
            "v1",
            "ippools",
            "IPPool",
            false,
            None,
        );
        out.push(Resource::new(spec, &c.ip_pools, d));
    }
    // Served by every API server since 1.7, whether or not anything enforces it.
    out.push(Resource::new(
        (
            "networking.k8s.io",
            "v1",
            "networkpolicies",
            "NetworkPolicy",
            true,
            Some("netpol"),
        ),
        c.network_policies.as_deref().unwrap_or_default(),
        d,
    ));
    // What `kubectl cluster-info dump` lists besides the above (it stops at the first list
    // that fails): the namespaces every object is in, and empty lists of the kinds netcheck
    // does not model.
    let mut names: Vec<&str> = out
        .iter()
        .flat_map(|r| r.objs.iter().map(|o| o.ns.as_str()))
        .filter(|n| !n.is_empty())
        .collect();
    names.extend(["default", "kube-system"]);
    names.sort_unstable();
    names.dedup();
    // The model's namespaces with their labels; the others with the label the API server
    // puts on every namespace.
    let declared = c.namespaces.as_deref().unwrap_or_default();
    let mut namespaces: Vec<Namespace> = declared.to_vec();
    namespaces.extend(
        names
            .into_iter()
            .filter(|n| !declared.iter().any(|d| d.metadata.name == *n))
            .map(|n| Namespace {
                metadata: Meta {
                    name: n.into(),
                    labels: [(NAMESPACE_NAME_LABEL.to_string(), n.to_string())].into(),
                    ..Meta::default()
                },
            }),
    );
    namespaces.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    out.push(Resource::new(
        ("", "v1", "events", "Event", true, Some("ev")),
        &c.events,
        d,
    ));
    if !c.ip_addresses.is_empty() {
        let spec = (
            "networking.k8s.io",
            "v1",
            "ipaddresses",
            "IPAddress",
            false,
            None,
        );
        out.push(Resource::new(spec, &c.ip_addresses, d));
    }
    let none: &[ApiObject] = &[];
    out.push(Resource::new(
        ("", "v1", "namespaces", "Namespace", false, Some("ns")),
        &namespaces,
        d,
    ));
    for spec in [
        (
            "",
            "v1",
            "replicationcontrollers",
            "ReplicationController",
            true,
            Some("rc"),
        ),
        (
            "apps",
            "v1",
            "deployments",
            "Deployment",
            true,
            Some("deploy"),
        ),
        ("apps", "v1", "replicasets", "ReplicaSet", true, Some("rs")),
    ] {
        out.push(Resource::new(spec, none, d));
    }
    out
}

// ---------- shared state and the connection loop ----------

/// One write to the store, as watches see it.
struct Change {
    rv: u64,
    /// Index into the resources.
    res: usize,
    kind: &'static str,
    /// The object after the change (before it, for a deletion).
    obj: Obj,
}

#[derive(Default)]
struct History {
    changes: Vec<Arc<Change>>,
    /// The store's version: that of its last change.
    rv: u64,
    /// Versions up to this one are forgotten (compacted): a watch from there gets 410 Gone.
    compacted: u64,
}

struct Shared {
    cluster: Cluster,
    resources: RwLock<Vec<Resource>>,
    history: Mutex<History>,
    changed: Condvar,
    opts: Options,
    addr: SocketAddr,
    /// Mixed into continue tokens so tokens from another server instance are rejected.
    epoch: u32,
    started: Instant,
    tls: Option<Arc<rustls::ServerConfig>>,
    deny_counts: Mutex<Vec<usize>>,
    fault_counts: Mutex<Vec<usize>>,
    log: Mutex<Vec<Recorded>>,
    conns: Mutex<HashMap<u64, TcpStream>>,
    next_conn: AtomicU64,
    stop: AtomicBool,
}

impl Shared {
    fn new(
        cluster: Cluster,
        opts: Options,
        addr: SocketAddr,
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> Shared {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .subsec_nanos();
        let resources = build_resources(&cluster, opts.decorate, &opts.without);
        // The objects live on as JSON; keep only what is answered from the model itself,
        // so that a 150,000-pod cluster is not held twice.
        let cluster = Cluster {
            server_version: cluster.server_version,
            logs: cluster.logs,
            probe: cluster.probe,
            rule_sets: cluster.rule_sets,
            ..Cluster::default()
        };
        Shared {
            resources: RwLock::new(resources),
            history: Mutex::new(History {
                rv: STORE_VERSION,
                compacted: STORE_VERSION,
                ..History::default()
            }),
            changed: Condvar::new(),
            cluster,
            deny_counts: Mutex::new(vec![0; opts.deny.len()]),
            fault_counts: Mutex::new(vec![0; opts.faults.len()]),
            opts,
            addr,
            epoch: nanos ^ (u32::from(addr.port()) << 16),
            started: Instant::now(),
            tls,
            log: Mutex::default(),
            conns: Mutex::default(),
            next_conn: AtomicU64::new(0),
            stop: AtomicBool::new(false),
        }
    }
}

impl Shared {
    fn resources(&self) -> std::sync::RwLockReadGuard<'_, Vec<Resource>> {
        self.resources.read().unwrap_or_else(|e| e.into_inner())
    }

    /// One change to the store, at the next version; false if `change` made none.
    fn write(
        &self,
        plural: &str,
        change: impl FnOnce(&mut Resource, u64) -> Option<(&'static str, Obj)>,
    ) -> bool {
        let mut resources = self.resources.write().unwrap_or_else(|e| e.into_inner());
        let Some(i) = resources.iter().position(|r| r.plural == plural) else {
            return false;
        };
        let mut h = lock(&self.history);
        let rv = h.rv + 1;
        let Some((kind, obj)) = change(&mut resources[i], rv) else {
            return false;
        };
        h.rv = rv;
        h.changes.push(Arc::new(Change {
            rv,
            res: i,
            kind,
            obj,
        }));
        self.changed.notify_all();
        true
    }

    /// A list request with `watch=true`: what to stream, or the error to answer.
    fn watch_request(&self, req: &Request, route: &Route) -> Option<Action> {
        let Route::Resource(t) = route else {
            return None;
        };
        if req.method != "GET"
            || t.name.is_some()
            || !matches!(req.param("watch"), Some("true" | "1"))
        {
            return None;
        }
        let bad = |msg: String| Some(Action::Send(status(400, &msg, json!({}))));
        let resources = self.resources();
        let Some(res) = resources
            .iter()
            .position(|r| (r.group, r.version, r.plural) == (t.group, t.version, t.plural))
            .filter(|&i| t.ns.is_none() || resources[i].namespaced)
        else {
            return Some(Action::Send(status(404, NOT_FOUND, json!({}))));
        };
        let labels = match parse_labels(req.param("labelSelector").unwrap_or("")) {
            Ok(l) => l,
            Err(e) => return bad(e),
        };
        let fields = match parse_fields(req.param("fieldSelector").unwrap_or(""), &resources[res]) {
            Ok(f) => f,
            Err(e) => return bad(e),
        };
        let from = match req.param("resourceVersion").filter(|v| !v.is_empty()) {
            None => None,
            Some(v) => match v.parse::<u64>() {
                Ok(v) => Some(v),
                Err(_) => return bad(format!("invalid resource version: {v:?}")),
            },
        };
        let secs = req
            .param("timeoutSeconds")
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(1800);
        Some(Action::Watch(WatchSpec {
            res,
            ns: t.ns.map(Into::into),
            labels,
            fields,
            from,
            until: Instant::now() + Duration::from_secs(secs),
            bookmarks: req.param("allowWatchBookmarks") == Some("true"),
        }))
    }

    /// Streams a watch's events, one JSON object per line in chunked encoding, until its
    /// timeout, the server's stop, or a client that went away. The bytes written so far are
    /// recorded as they go.
    fn stream_watch<S: Write>(&self, w: &mut Counted<S>, spec: &WatchSpec, idx: usize) {
        let start = w.written;
        let (kind, gv) = {
            let r = &self.resources()[spec.res];
            (r.kind, r.gv())
        };
        let event = |w: &mut Counted<S>, kind: &str, object: &str| -> io::Result<()> {
            let line = format!("{{\"type\":\"{kind}\",\"object\":{object}}}\n");
            write!(w, "{:x}\r\n{line}\r\n", line.len())?;
            w.flush()
        };
        let gone = |w: &mut Counted<S>| {
            let s = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Expired",
                "code": 410, "message": "too old resource version"});
            event(w, "ERROR", &s.to_string())
        };
        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nCache-Control: no-cache, private\r\nConnection: close\r\n\r\n";
        let res = (|| -> io::Result<()> {
            w.write_all(head.as_bytes())?;
            let mut next = match spec.from {
                Some(rv) if rv > 0 => {
                    if rv < lock(&self.history).compacted {
                        return gone(w);
                    }
                    rv
                }
                // No version (or 0): the current objects first, as ADDED, then what changes.
                _ => {
                    let resources = self.resources();
                    let rv = lock(&self.history).rv;
                    for o in resources[spec.res].objs.iter().filter(|o| spec.selects(o)) {
                        event(w, "ADDED", &o.json)?;
                    }
                    rv
                }
            };
            let mut bookmarked = Instant::now();
            loop {
                let (batch, rv) = {
                    let mut h = lock(&self.history);
                    while h.rv <= next
                        && !self.stop.load(Ordering::SeqCst)
                        && Instant::now() < spec.until
                        && !(spec.bookmarks && bookmarked.elapsed() >= BOOKMARK_EVERY)
                    {
                        h = self
                            .changed
                            .wait_timeout(h, Duration::from_millis(200))
                            .unwrap_or_else(|e| e.into_inner())
                            .0;
                    }
                    if next < h.compacted {
                        drop(h);
                        return gone(w);
                    }
                    let batch: Vec<Arc<Change>> = h
                        .changes
                        .iter()
                        .filter(|c| c.rv > next && c.res == spec.res)
                        .cloned()
                        .collect();
                    (batch, h.rv)
                };
                for c in batch.iter().filter(|c| spec.selects(&c.obj)) {
                    event(w, c.kind, &c.obj.json)?;
                }
                if let Some(r) = lock(&self.log).get_mut(idx) {
                    r.bytes = w.written - start;
                }
                next = rv;
                if self.stop.load(Ordering::SeqCst) || Instant::now() >= spec.until {
                    return Ok(());
                }
                if spec.bookmarks && bookmarked.elapsed() >= BOOKMARK_EVERY {
                    let b = json!({"kind": kind, "apiVersion": gv, "metadata": {"resourceVersion": next.to_string()}});
                    event(w, "BOOKMARK", &b.to_string())?;
                    bookmarked = Instant::now();
                }
            }
        })();
        if res.is_ok() {
            let _ = w.write_all(b"0\r\n\r\n").and_then(|_| w.flush());
        }
        if let Some(r) = lock(&self.log).get_mut(idx) {
            r.bytes = w.written - start;
        }
    }
}

struct WatchSpec {
    res: usize,
    ns: Option<String>,
    labels: Vec<LabelReq>,
    fields: Vec<FieldReq>,
    /// The version to start after; `None`: start with the current objects.
    from: Option<u64>,
    until: Instant,
    bookmarks: bool,
}

impl WatchSpec {
    fn selects(&self, o: &Obj) -> bool {
        self.ns.as_deref().is_none_or(|ns| o.ns == ns)
            && self.labels.iter().all(|s| s.matches(&o.labels))
            && self.fields.iter().all(|f| f.matches(o))
    }
}

fn accept_loop(shared: &Arc<Shared>, listener: TcpListener) {
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else {
            // e.g. out of file descriptors: back off instead of spinning.
            thread::sleep(Duration::from_millis(10));
            continue;
        };
        let id = shared.next_conn.fetch_add(1, Ordering::Relaxed);
        if let Ok(clone) = stream.try_clone() {
            lock(&shared.conns).insert(id, clone);
        }
        let conn_shared = shared.clone();
        let spawned = thread::Builder::new()
            .name("apiserver-conn".into())
            .spawn(move || {
                serve_conn(&conn_shared, stream);
                lock(&conn_shared.conns).remove(&id);
            });
        if spawned.is_err() {
            lock(&shared.conns).remove(&id);
            thread::sleep(Duration::from_millis(10));
        }
    }
}

enum Body {
    Bytes(Vec<u8>),
    /// Generated log filler of this many bytes, streamed without holding it in memory.
    Filler(usize),
}

struct Response {
    status: u16,
    content_type: &'static str,
    headers: Vec<(&'static str, String)>,
    body: Body,
}

impl Response {
    fn json(status: u16, body: String) -> Response {
        Response {
            status,
            content_type: "application/json",
            headers: vec![],
            body: Body::Bytes(body.into_bytes()),
        }
    }
    fn text(body: Vec<u8>) -> Response {
        Response {
            status: 200,
            content_type: "text/plain",
            headers: vec![],
            body: Body::Bytes(body),
        }
    }
}

enum Action {
    Send(Response),
    Truncate(Response),
    Reset,
    /// A WebSocket exec stream: (channel, bytes) messages, then the connection closes.
    Exec {
        key: String,
        messages: Vec<(u8, Vec<u8>)>,
    },
    /// A watch's event stream; the connection closes after it.
    Watch(WatchSpec),
}

fn serve_conn(shared: &Shared, stream: TcpStream) {
    // Headers and body go out in separate writes; without this, Nagle's algorithm plus the
    // client's delayed ACK can stall small responses by tens of milliseconds.
    let _ = stream.set_nodelay(true);
    let Ok(raw) = stream.try_clone() else {
        return;
    };
    match &shared.tls {
        None => serve(shared, stream),
        Some(config) => {
            if let Ok(conn) = rustls::ServerConnection::new(config.clone()) {
                // The handshake happens on first read; a client that refuses the certificate
                // ends it there, and the connection just closes.
                serve(shared, rustls::StreamOwned::new(conn, stream));
            }
        }
    }
    let _ = raw.shutdown(Shutdown::Both);
}

/// A connection's byte stream (TCP, or TLS over it) that counts what the server writes.
struct Counted<S> {
    inner: S,
    written: usize,
}

impl<S: Read> Read for Counted<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

impl<S: Write> Write for Counted<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written += n;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn serve<S: Read + Write>(shared: &Shared, stream: S) {
    let mut reader = BufReader::new(Counted {
        inner: stream,
        written: 0,
    });
    while let Ok(Some(req)) = read_request(&mut reader) {
        let idx = {
            let mut log = lock(&shared.log);
            log.push(Recorded {
                method: req.method.clone(),
                path: req.path.clone(),
                query: req.query.clone(),
                status: 0,
                bytes: 0,
                at: shared.started.elapsed(),
                accept: req.header("accept").unwrap_or("").into(),
                content_type: "",
            });
            log.len() - 1
        };
        let (resp, keep, truncate) = match shared.handle(&req) {
            Action::Send(resp) => (resp, req.keep_alive, false),
            Action::Truncate(resp) => (resp, false, true),
            Action::Reset => break,
            Action::Exec { key, messages } => {
                if let Some(r) = lock(&shared.log).get_mut(idx) {
                    r.status = 101;
                }
                let _ = exec::write(reader.get_mut(), &key, &messages);
                break;
            }
            Action::Watch(spec) => {
                if let Some(r) = lock(&shared.log).get_mut(idx) {
                    (r.status, r.content_type) = (200, "application/json");
                }
                shared.stream_watch(reader.get_mut(), &spec, idx);
                break;
            }
        };
        let resp = match req.wants_protobuf() && !shared.opts.json_only {
            true => protobuf_status(resp),
            false => resp,
        };
        let sent = body_len(&resp.body) / if truncate { 2 } else { 1 };
        // Recorded before writing, so a client that has its answer sees the record complete.
        if let Some(r) = lock(&shared.log).get_mut(idx) {
            (r.status, r.bytes, r.content_type) = (resp.status, sent, resp.content_type);
        }
        let w = reader.get_mut();
        let res = write_response(w, &resp, keep, sent);
        if let Err((body_written, _)) = res {
            // The client went away mid-body: record what actually left.
            if let Some(r) = lock(&shared.log).get_mut(idx) {
                r.bytes = body_written;
            }
            break;
        }
        if !keep {
            break;
        }
    }
}

// ---------- HTTP/1.1 framing ----------

struct Request {
    method: String,
    path: String,
    query: String,
    params: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    keep_alive: bool,
}

impl Request {
    fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// Whether the client's first acceptable media type is protobuf (kube-apiserver takes
    /// the client's order; `q=0` excludes a type).
    fn wants_protobuf(&self) -> bool {
        let accept = self.header("accept").unwrap_or("");
        let first = accept.split(',').find_map(|m| {
            let mut parts = m.split(';').map(str::trim);
            let media = parts.next()?;
            let refused = parts.any(|p| p.replace(' ', "") == "q=0");
            let known = media == proto::CONTENT_TYPE
                || matches!(media, "application/json" | "application/*" | "*/*");
            (known && !refused).then_some(media)
        });
        first == Some(proto::CONTENT_TYPE)
    }
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

/// One CRLF-terminated line, without the terminator; None at end of stream.
fn read_line(r: &mut impl BufRead) -> io::Result<Option<String>> {
    let mut line = String::new();
    if r.by_ref().take(MAX_LINE).read_line(&mut line)? == 0 {
        return Ok(None);
    }
    if !line.ends_with('\n') {
        return Err(invalid("line too long or cut short"));
    }
    Ok(Some(line.trim_end_matches(['\r', '\n']).to_string()))
}

/// The next request on the connection; Ok(None) when the client closed it between requests.
fn read_request<S: Read + Write>(r: &mut BufReader<S>) -> io::Result<Option<Request>> {
    // Blank lines before a request line are allowed (RFC 9112 §2.2).
    let start = loop {
        match read_line(r)? {
            None => return Ok(None),
            Some(l) if l.is_empty() => continue,
            Some(l) => break l,
        }
    };
    let mut parts = start.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid("bad request line"));
    };
    let mut headers = Vec::new();
    loop {
        let line = read_line(r)?.ok_or_else(|| invalid("eof in headers"))?;
        if line.is_empty() {
            break;
        }
        let (k, v) = line.split_once(':').ok_or_else(|| invalid("bad header"))?;
        headers.push((k.trim().to_string(), v.trim().to_string()));
        if headers.len() > 200 {
            return Err(invalid("too many headers"));
        }
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut req = Request {
        method: method.to_string(),
        path: path.to_string(),
        query: query.to_string(),
        params: query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (percent_decode(k), percent_decode(v))
            })
            .collect(),
        headers,
        body: Vec::new(),
        keep_alive: false,
    };
    let connection = req.header("connection").unwrap_or("").to_ascii_lowercase();
    req.keep_alive = match version {
        "HTTP/1.1" => !connection.contains("close"),
        "HTTP/1.0" => connection.contains("keep-alive"),
        _ => return Err(invalid("unsupported HTTP version")),
    };
    // curl waits for this before sending a large POST body.
    if req
        .header("expect")
        .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"))
    {
        let w = r.get_mut();
        w.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        w.flush()?;
    }
    if req
        .header("transfer-encoding")
        .is_some_and(|t| t.to_ascii_lowercase().contains("chunked"))
    {
        req.body = read_chunked(r)?;
    } else if let Some(len) = req.header("content-length") {
        let len: usize = len.parse().map_err(|_| invalid("bad content-length"))?;
        if len > MAX_BODY {
            return Err(invalid("body too large"));
        }
        req.body = vec![0; len];
        r.read_exact(&mut req.body)?;
    }
    Ok(Some(req))
}

fn read_chunked(r: &mut impl BufRead) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line = read_line(r)?.ok_or_else(|| invalid("eof in chunk"))?;
        let size = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size, 16).map_err(|_| invalid("bad chunk size"))?;
        if size == 0 {
            // Skip trailers up to the blank line that ends the message.
            while !read_line(r)?
                .ok_or_else(|| invalid("eof in trailers"))?
                .is_empty()
            {}
            return Ok(body);
        }
        if body.len() + size > MAX_BODY {
            return Err(invalid("body too large"));
        }
        let start = body.len();
        body.resize(start + size, 0);
        r.read_exact(&mut body[start..])?;
        read_line(r)?;
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() && hex(b[i + 1]).is_some() && hex(b[i + 2]).is_some() => {
                out.push((hex(b[i + 1]).unwrap() * 16 + hex(b[i + 2]).unwrap()) as u8);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn body_len(body: &Body) -> usize {
    match body {
        Body::Bytes(b) => b.len(),
        Body::Filler(n) => *n,
    }
}

/// Writes the response, announcing the full body length but sending only `sent` bytes of it.
/// On failure, says how many body bytes had reached the socket.
fn write_response<S: Write>(
    stream: &mut Counted<S>,
    resp: &Response,
    keep: bool,
    sent: usize,
) -> Result<(), (usize, io::Error)> {
    let before = stream.written;
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-cache, private\r\n",
        resp.status,
        phrase(resp.status),
        resp.content_type,
        body_len(&resp.body)
    );
    for (k, v) in &resp.headers {
        let _ = write!(head, "{k}: {v}\r\n");
    }
    head.push_str(if keep {
        "\r\n"
    } else {
        "Connection: close\r\n\r\n"
    });
    let head_len = head.len();
    let res = (|| {
        let mut w = BufWriter::with_capacity(64 * 1024, &mut *stream);
        w.write_all(head.as_bytes())?;
        match &resp.body {
            Body::Bytes(b) => w.write_all(&b[..sent])?,
            Body::Filler(_) => write_filler(&mut w, sent)?,
        }
        w.flush()
    })();
    res.map_err(|e| {
        let body = (stream.written - before).saturating_sub(head_len);
        (body, e)
    })
}

fn write_filler(w: &mut impl Write, mut n: usize) -> io::Result<()> {
    // A block of whole lines, written repeatedly, so the stream stays line-structured.
    let line = "I0101 00:00:00.000000       1 filler.go:1] filler line to exceed any limitBytes\n";
    let block = line.repeat(64 * 1024 / line.len());
    while n > 0 {
        let k = n.min(block.len());
        w.write_all(&block.as_bytes()[..k])?;
        n -= k;
    }
    Ok(())
}

fn phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        410 => "Gone",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

// ---------- Status bodies ----------

fn reason(code: u16) -> &'static str {
    match code {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        409 => "Conflict",
        410 => "Expired",
        422 => "Invalid",
        429 => "TooManyRequests",
        500 => "InternalError",
        503 => "ServiceUnavailable",
        504 => "Timeout",
        _ => "Unknown",
    }
}

/// An error's Status body in protobuf, as kube-apiserver encodes errors in the negotiated type.
fn protobuf_status(resp: Response) -> Response {
    let Body::Bytes(json) = &resp.body else {
        return resp;
    };
    let status = serde_json::from_slice::<Value>(json)
        .ok()
        .filter(|v| resp.status >= 400 && v["kind"] == "Status");
    match status.map(|v| super::proto::encode("Status", &v)) {
        Some(Ok(raw)) => Response {
            content_type: proto::CONTENT_TYPE,
            body: Body::Bytes(super::proto::envelope("v1", "Status", &raw)),
            ..resp
        },
        _ => resp,
    }
}

fn status(code: u16, message: &str, details: Value) -> Response {
    let body = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason(code), "details": details, "code": code,
    });
    Response::json(code, body.to_string())
}

/// `details` as the real server fills it for an object: name, group (omitted for core), kind = plural.
fn details(t: &Target, name: Option<&str>) -> Value {
    let mut d = json!({ "kind": t.plural });
    if let Some(name) = name {
        d["name"] = name.into();
    }
    if !t.group.is_empty() {
        d["group"] = t.group.into();
    }
    d
}

// ---------- routing ----------

/// A resource path, whether or not the server knows the resource.
struct Target<'a> {
    group: &'a str,
    version: &'a str,
    ns: Option<&'a str>,
    plural: &'a str,
    name: Option<&'a str>,
    sub: Option<&'a str>,
}

enum Route<'a> {
    Version,
    Api,
    Apis,
    GroupVersion(&'a str, &'a str),
    Resource(Target<'a>),
    Other,
}

fn route(path: &str) -> Route<'_> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, version, rest) = match segs.as_slice() {
        ["version"] => return Route::Version,
        ["api"] => return Route::Api,
        ["apis"] => return Route::Apis,
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return Route::Other,
    };
    let (ns, rest) = match rest {
        ["namespaces", ns, rest @ ..] if !rest.is_empty() => (Some(*ns), rest),
        _ => (None, rest),
    };
    let (plural, name, sub) = match rest {
        [] => return Route::GroupVersion(group, version),
        [plural] => (*plural, None, None),
        [plural, name] => (*plural, Some(*name), None),
        [plural, name, sub] => (*plural, Some(*name), Some(*sub)),
        _ => return Route::Other,
    };
    Route::Resource(Target {
        group,
        version,
        ns,
        plural,
        name,
        sub,
    })
}

/// Apply the first matching rule whose `times` budget is not spent, and spend one.
fn take<'r>(
    counts: &Mutex<Vec<usize>>,
    rules: impl Iterator<Item = &'r Rule>,
    req: &Request,
    applies: impl Fn(usize) -> bool,
) -> Option<usize> {
    let mut counts = lock(counts);
    let i = rules.enumerate().position(|(i, rule)| {
        rule.matches(&req.method, &req.path)
            && applies(i)
            && rule.times.is_none_or(|n| counts[i] < n)
    })?;
    counts[i] += 1;
    Some(i)
}

impl Shared {
    // The order mirrors kube-apiserver's filter chain: authentication, authorization,
    // then overload handling (faults), then the handler.
    fn handle(&self, req: &Request) -> Action {
        let route = route(&req.path);
        if let Some(token) = &self.opts.token {
            if req.header("authorization") != Some(&format!("Bearer {token}")) {
                return Action::Send(status(401, "Unauthorized", json!({})));
            }
        }
        if take(&self.deny_counts, self.opts.deny.iter(), req, |_| true).is_some() {
            return Action::Send(forbidden(req, &route));
        }
        if let Some(rules) = &self.opts.allow {
            let (verb, target) = (verb(req, &route), auth_target(req, &route));
            if !rules.iter().any(|r| r.allows(&verb, &target)) {
                return Action::Send(forbidden(req, &route));
            }
        }
        if let Route::Resource(t) = &route {
            if t.plural == "pods" && t.sub == Some("exec") {
                return self.exec(req, t);
            }
        }
        let is_list = matches!(&route, Route::Resource(t) if t.name.is_none());
        let is_log = matches!(&route, Route::Resource(t) if t.sub == Some("log"));
        let has_continue = req.param("continue").is_some_and(|c| !c.is_empty());
        let faults = &self.opts.faults;
        let fault = take(
            &self.fault_counts,
            faults.iter().map(|(r, _)| r),
            req,
            |i| match faults[i].1 {
                Fault::GoneOnContinue => is_list && has_continue,
                Fault::HugeLog { .. } | Fault::InvalidUtf8Log => is_log,
                _ => true,
            },
        )
        .map(|i| &faults[i].1);
        match fault {
            Some(Fault::Reset) => Action::Reset,
            Some(Fault::Status(code)) => Action::Send(status(
                *code,
                &format!("injected fault: {} {}", code, phrase(*code)),
                json!({}),
            )),
            Some(Fault::TooManyRequests {
                retry_after_secs: secs,
            }) => {
                let mut resp = status(
                    429,
                    "Too many requests, please try again later.",
                    json!({ "retryAfterSeconds": secs }),
                );
                resp.headers.push(("Retry-After", secs.to_string()));
                Action::Send(resp)
            }
            Some(Fault::GoneOnContinue) => Action::Send(status(
                410,
                "The provided continue parameter is too old to display a consistent list result. \
                 You can start a new list without the continue parameter.",
                json!({}),
            )),
            Some(Fault::TruncatedJson) => Action::Truncate(self.respond(req, &route, None)),
            Some(Fault::Delay(d)) => {
                thread::sleep(*d);
                Action::Send(self.respond(req, &route, None))
            }
            log_fault => self
                .watch_request(req, &route)
                .unwrap_or_else(|| Action::Send(self.respond(req, &route, log_fault))),
        }
    }

    fn respond(&self, req: &Request, route: &Route, log_fault: Option<&Fault>) -> Response {
        match (req.method.as_str(), route) {
            ("GET", Route::Version) => Response::json(200, self.version().to_string()),
            ("GET", Route::Api) => Response::json(
                200,
                json!({
                    "kind": "APIVersions", "versions": ["v1"],
                    "serverAddressByClientCIDRs": [{ "clientCIDR": "0.0.0.0/0", "serverAddress": self.addr.to_string() }],
                })
                .to_string(),
            ),
            ("GET", Route::Apis) => Response::json(200, self.groups().to_string()),
            ("GET", Route::GroupVersion(g, v)) => self.api_resources(g, v),
            ("GET", Route::Resource(t)) => self.get(req, t, log_fault),
            // The service-CIDR probe. Only dry runs are accepted: a client that forgets
            // dryRun=All would create a Service on a real cluster, so that is an error here.
            ("POST", Route::Resource(t))
                if (t.group, t.version, t.plural, t.name) == ("", "v1", "services", None)
                    && t.ns.is_some()
                    && req.param("dryRun") == Some("All") =>
            {
                self.probe(req)
            }
            ("GET", _) => status(404, NOT_FOUND, json!({})),
            (m, _) => status(405, &format!("the server does not allow this method ({m}) on the requested resource"), json!({})),
        }
    }

    fn version(&self) -> Value {
        let git = self
            .cluster
            .server_version
            .as_deref()
            .unwrap_or(DEFAULT_VERSION);
        let minor = git.trim_start_matches('v').split('.').nth(1).unwrap_or("");
        let minor: String = minor.chars().take_while(char::is_ascii_digit).collect();
        json!({
            "major": "1", "minor": minor, "gitVersion": git,
            "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
            "buildDate": "2024-01-01T00:00:00Z", "goVersion": "go1.22.0", "compiler": "gc",
            "platform": "linux/amd64",
        })
    }

    fn groups(&self) -> Value {
        let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
        let resources = self.resources();
        for r in resources.iter().filter(|r| !r.group.is_empty()) {
            match groups.iter_mut().find(|(g, _)| *g == r.group) {
                Some((_, vs)) if vs.contains(&r.version) => {}
                Some((_, vs)) => vs.push(r.version),
                None => groups.push((r.group, vec![r.version])),
            }
        }
        // A stable version is preferred over a beta over an alpha, as kube-apiserver orders them.
        for (_, vs) in &mut groups {
            vs.sort_by_key(|v| u8::from(v.contains("beta")) + 2 * u8::from(v.contains("alpha")));
        }
        let groups: Vec<Value> = groups
            .iter()
            .map(|(g, vs)| {
                let gv = |v: &&str| json!({ "groupVersion": format!("{g}/{v}"), "version": v });
                json!({ "name": g, "versions": vs.iter().map(gv).collect::<Vec<_>>(), "preferredVersion": gv(&vs[0]) })
            })
            .collect();
        json!({ "kind": "APIGroupList", "apiVersion": "v1", "groups": groups })
    }

    fn api_resources(&self, group: &str, version: &str) -> Response {
        let mut list: Vec<Value> = self
            .resources()
            .iter()
            .filter(|r| r.group == group && r.version == version)
            .map(|r| {
                let verbs = if r.plural == "services" { json!(["create", "get", "list"]) } else { json!(["get", "list"]) };
                let mut v = json!({
                    "name": r.plural, "singularName": r.kind.to_lowercase(), "namespaced": r.namespaced,
                    "kind": r.kind, "verbs": verbs,
                });
                if let Some(s) = r.short {
                    v["shortNames"] = json!([s]);
                }
                v
            })
            .collect();
        if list.is_empty() {
            return status(404, NOT_FOUND, json!({}));
        }
        if group.is_empty() {
            list.push(json!({ "name": "pods/log", "singularName": "", "namespaced": true, "kind": "Pod", "verbs": ["get"] }));
        }
        let gv = if group.is_empty() {
            version.to_string()
        } else {
            format!("{group}/{version}")
        };
        Response::json(
            200,
            json!({ "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": list }).to_string(),
        )
    }

    fn get(&self, req: &Request, t: &Target, log_fault: Option<&Fault>) -> Response {
        let not_found = || status(404, NOT_FOUND, json!({}));
        let resources = self.resources();
        let Some(res) = resources
            .iter()
            .find(|r| (r.group, r.version, r.plural) == (t.group, t.version, t.plural))
        else {
            return not_found();
        };
        // Cluster-scoped resources have no namespaced paths; namespaced objects need one.
        if (t.ns.is_some() && !res.namespaced)
            || (t.name.is_some() && res.namespaced != t.ns.is_some())
        {
            return not_found();
        }
        match (t.name, t.sub) {
            (None, _) => self.list(req, res, t.ns),
            (Some(name), sub) => {
                let Some(&i) = res
                    .by_key
                    .get(&(t.ns.unwrap_or("").to_string(), name.to_string()))
                else {
                    return status(
                        404,
                        &format!("{} \"{name}\" not found", t.plural),
                        details(t, Some(name)),
                    );
                };
                match sub {
                    None => Response::json(200, res.objs[i].json.clone()),
                    Some("log") if res.plural == "pods" => self.log(req, &res.objs[i], log_fault),
                    Some(_) => not_found(),
                }
            }
        }
    }

    fn list(&self, req: &Request, res: &Resource, ns: Option<&str>) -> Response {
        let bad = |msg: String| status(400, &msg, json!({}));
        // Read under the store's lock (held by the caller): no change can come between.
        let rv = lock(&self.history).rv;
        let labels = match parse_labels(req.param("labelSelector").unwrap_or("")) {
            Ok(l) => l,
            Err(e) => return bad(e),
        };
        let fields = match parse_fields(req.param("fieldSelector").unwrap_or(""), res) {
            Ok(f) => f,
            Err(e) => return bad(e),
        };
        let start = match req.param("continue").filter(|c| !c.is_empty()) {
            None => 0,
            Some(token) => match self.decode_continue(token, res.objs.len()) {
                Some(i) => i,
                None => return bad(format!("continue key is not valid: {token:?}")),
            },
        };
        let limit = match req.param("limit").map(str::parse::<usize>) {
            None => None,
            Some(Ok(0)) => None, // limit=0 means "no limit", as on the real server
            Some(Ok(n)) => Some(n),
            Some(Err(_)) => return bad("limit must be a non-negative integer".into()),
        };
        let limit = match (limit, self.opts.max_page) {
            (Some(l), Some(m)) => Some(l.min(m)),
            (l, m) => l.or(m),
        };
        let matches = |o: &Obj| {
            ns.is_none_or(|ns| o.ns == ns)
                && labels.iter().all(|s| s.matches(&o.labels))
                && fields.iter().all(|f| f.matches(o))
        };
        let mut items: Vec<&Obj> = Vec::new();
        // Index of the first matching object not returned: where the next page starts.
        let mut next = None;
        for (i, o) in res.objs.iter().enumerate().skip(start) {
            if matches(o) {
                if limit.is_some_and(|l| items.len() == l) {
                    next = Some(i);
                    break;
                }
                items.push(o);
            }
        }
        let token = next.map(|n| format!("{:x}.{n}", self.epoch));
        // The real server cannot count ahead through a selector, so it omits the count then.
        let remaining = next
            .filter(|_| labels.is_empty() && fields.is_empty())
            .map(|n| res.objs[n..].iter().filter(|o| matches(o)).count());
        let pb = items.iter().map(|o| o.pb.as_deref());
        if req.wants_protobuf() && !self.opts.json_only && pb.clone().all(|p| p.is_some()) {
            let meta = json!({"resourceVersion": rv.to_string(), "continue": token, "remainingItemCount": remaining});
            let kind = format!("{}List", res.kind);
            if let Ok(body) = super::proto::list_page(&res.gv(), &kind, &meta, pb.flatten()) {
                return Response {
                    status: 200,
                    content_type: proto::CONTENT_TYPE,
                    headers: vec![],
                    body: Body::Bytes(body),
                };
            }
        }
        let size: usize = items.iter().map(|o| o.json.len() + 1).sum();
        let mut body = String::with_capacity(size + 256);
        let _ = write!(
            body,
            r#"{{"apiVersion":"{}","kind":"{}List","metadata":{{"resourceVersion":"{rv}""#,
            res.gv(),
            res.kind
        );
        if let Some(token) = token {
            let _ = write!(body, r#","continue":"{token}""#);
        }
        if let Some(remaining) = remaining {
            let _ = write!(body, r#","remainingItemCount":{remaining}"#);
        }
        body.push_str(r#"},"items":["#);
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            body.push_str(&item.json);
        }
        body.push_str("]}");
        Response::json(200, body)
    }

    fn decode_continue(&self, token: &str, len: usize) -> Option<usize> {
        let (epoch, offset) = token.split_once('.')?;
        let offset: usize = offset.parse().ok()?;
        (u32::from_str_radix(epoch, 16).ok()? == self.epoch && offset <= len).then_some(offset)
    }

    /// `pods/NAME/exec` over WebSocket: a command prints the node's rule dump it names.
    fn exec(&self, req: &Request, t: &Target) -> Action {
        let resources = self.resources();
        let pod = resources.iter().find(|r| r.plural == "pods").and_then(|r| {
            r.by_key
                .get(&(
                    t.ns.unwrap_or("").to_string(),
                    t.name.unwrap_or("").to_string(),
                ))
                .map(|&i| &r.objs[i])
        });
        let Some(pod) = pod else {
            return Action::Send(status(
                404,
                &format!("pods \"{}\" not found", t.name.unwrap_or("")),
                json!({}),
            ));
        };
        let (Some(key), true) = (
            req.header("sec-websocket-key"),
            req.header("upgrade")
                .is_some_and(|u| u.eq_ignore_ascii_case("websocket")),
        ) else {
            return Action::Send(status(400, "Upgrade request required", json!({})));
        };
        let command: Vec<&str> = req
            .params
            .iter()
            .filter(|(k, _)| k == "command")
            .map(|(_, v)| v.as_str())
            .collect();
        let command = command.join(" ");
        let dump = self
            .cluster
            .rule_sets
            .iter()
            .find(|r| Some(r.node.as_str()) == pod.node.as_deref() && r.source == command);
        let messages = match dump {
            Some(d) => vec![
                (1, d.text.clone().into_bytes()),
                (3, exec::status(0, &command)),
            ],
            None => vec![
                (2, format!("sh: {command}: not found\n").into_bytes()),
                (3, exec::status(127, &command)),
            ],
        };
        Action::Exec {
            key: key.to_string(),
            messages,
        }
    }

    fn log(&self, req: &Request, pod: &Obj, fault: Option<&Fault>) -> Response {
        let (ns, name) = (pod.ns.as_str(), pod.name.as_str());
        if let Some(Fault::HugeLog { bytes }) = fault {
            return Response {
                body: Body::Filler(*bytes),
                ..Response::text(vec![])
            };
        }
        let container = req
            .param("container")
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .or_else(|| {
                pod.container.clone().or_else(|| {
                    let mut logs = self
                        .cluster
                        .logs
                        .iter()
                        .filter(|l| l.namespace == ns && l.pod == name);
                    logs.next().map(|l| l.container.clone())
                })
            });
        let container = container.unwrap_or_default();
        let previous = matches!(req.param("previous"), Some("true" | "1"));
        let text: Vec<u8> = if let Some(Fault::InvalidUtf8Log) = fault {
            let mut t = b"\xff\xfe\x00garbage \xc3\x28\n".to_vec();
            t.extend_from_slice(
                b"I0101 00:00:00.000000       1 server_others.go:1] \"Using ipvs Proxier\"\n",
            );
            t.extend_from_slice(b"tail \xe2\x82 \xf0\x28\x8c\xbc\n");
            t
        } else {
            match self.cluster.log(ns, name, &container, previous) {
                Some(l) => l.text.as_bytes().to_vec(),
                None if previous => {
                    let msg = format!(
                        "previous terminated container \"{container}\" in pod \"{name}\" not found"
                    );
                    return status(400, &msg, json!({}));
                }
                None => Vec::new(),
            }
        };
        let mut text = match req.param("tailLines").and_then(|n| n.parse().ok()) {
            Some(n) => tail_lines(&text, n).to_vec(),
            None => text,
        };
        if let Some(limit) = req
            .param("limitBytes")
            .and_then(|n| n.parse::<usize>().ok())
        {
            text.truncate(limit);
        }
        Response::text(text)
    }

    fn probe(&self, req: &Request) -> Response {
        let Ok(svc) = serde_json::from_slice::<Value>(&req.body) else {
            return status(400, "the request body is not valid JSON", json!({}));
        };
        let echo = |code| Response::json(code, String::from_utf8_lossy(&req.body).into_owned());
        let Some(probe) = &self.cluster.probe else {
            return echo(201);
        };
        if (200..300).contains(&probe.code) {
            return echo(probe.code);
        }
        let details = if probe.code == 422 {
            json!({
                "name": svc["metadata"]["name"], "kind": "Service",
                "causes": [{ "reason": "FieldValueInvalid", "message": probe.message, "field": "spec.clusterIPs" }],
            })
        } else {
            json!({})
        };
        status(probe.code, &probe.message, details)
    }
}

/// The authorizer's verb for a request, as kube-apiserver derives it: resource requests map
/// GET to get/list/watch and writes to create/update/patch/delete(collection); non-resource
/// requests use the lower-cased HTTP method.
fn verb(req: &Request, route: &Route) -> String {
    let Route::Resource(t) = route else {
        return req.method.to_ascii_lowercase();
    };
    let collection = t.name.is_none();
    let watch = matches!(req.param("watch"), Some("true" | "1"));
    match req.method.as_str() {
        // Exec streams are authorized as creating the pods/exec subresource.
        "GET" if t.sub == Some("exec") => "create",
        "GET" | "HEAD" if watch => "watch",
        "GET" | "HEAD" if collection => "list",
        "GET" | "HEAD" => "get",
        "POST" => "create",
        "PUT" => "update",
        "PATCH" => "patch",
        "DELETE" if collection => "deletecollection",
        "DELETE" => "delete",
        m => return m.to_ascii_lowercase(),
    }
    .into()
}

/// What RBAC authorizes for this request: resource attributes for resource paths, the path
/// itself for everything else (`/version`, `/api`, `/apis/apps/v1`...).
fn auth_target<'a>(req: &'a Request, route: &'a Route) -> AuthTarget<'a> {
    match route {
        Route::Resource(t) => AuthTarget::Resource {
            group: t.group,
            resource: t.plural,
            sub: t.sub,
            name: t.name,
        },
        _ => AuthTarget::NonResource(&req.path),
    }
}

fn forbidden(req: &Request, route: &Route) -> Response {
    let verb = verb(req, route);
    let Route::Resource(t) = route else {
        let msg = format!(
            "forbidden: User \"{DENIED_USER}\" cannot {verb} path \"{}\"",
            req.path
        );
        return status(403, &msg, json!({}));
    };
    let who = match t.name {
        Some(name) => format!("{} \"{name}\"", t.plural),
        None => t.plural.to_string(),
    };
    let resource = match t.sub {
        Some(sub) => format!("{}/{sub}", t.plural),
        None => t.plural.to_string(),
    };
    let scope = match t.ns {
        Some(ns) => format!("in the namespace \"{ns}\""),
        None => "at the cluster scope".to_string(),
    };
    let msg = format!(
        "{who} is forbidden: User \"{DENIED_USER}\" cannot {verb} resource \"{resource}\" in API group \"{}\" {scope}",
        t.group
    );
    status(403, &msg, details(t, t.name))
}

fn tail_lines(text: &[u8], n: usize) -> &[u8] {
    if n == 0 {
        return &[];
    }
    // A trailing newline ends the last line; it does not start an empty one.
    let body = text.strip_suffix(b"\n").unwrap_or(text);
    let cut = body
        .iter()
        .enumerate()
        .rev()
        .filter(|(_, b)| **b == b'\n')
        .nth(n - 1);
    cut.map_or(text, |(i, _)| &text[i + 1..])
}

// ---------- selectors ----------

enum LabelReq {
    Eq(String, String),
    Ne(String, String),
    Exists(String),
    NotExists(String),
}

impl LabelReq {
    fn matches(&self, labels: &netcheck::model::StrMap) -> bool {
        match self {
            LabelReq::Eq(k, v) => labels.get(k).is_some_and(|l| l == v),
            LabelReq::Ne(k, v) => labels.get(k).is_none_or(|l| l != v),
            LabelReq::Exists(k) => labels.contains_key(k),
            LabelReq::NotExists(k) => !labels.contains_key(k),
        }
    }
}

/// `k=v`, `k==v`, `k!=v`, `k`, `!k`, comma-separated and ANDed. Set-based forms are refused
/// rather than silently misread.
fn parse_labels(sel: &str) -> Result<Vec<LabelReq>, String> {
    let valid = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
    };
    let valid_value = |s: &str| s.is_empty() || valid(s);
    sel.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|term| {
            let req = if let Some((k, v)) = term.split_once("!=") {
                LabelReq::Ne(k.trim().into(), v.trim().into())
            } else if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
                LabelReq::Eq(k.trim().into(), v.trim().into())
            } else if let Some(k) = term.strip_prefix('!') {
                LabelReq::NotExists(k.trim().into())
            } else {
                LabelReq::Exists(term.into())
            };
            let ok = match &req {
                LabelReq::Eq(k, v) | LabelReq::Ne(k, v) => valid(k) && valid_value(v),
                LabelReq::Exists(k) | LabelReq::NotExists(k) => valid(k),
            };
            ok.then_some(req)
                .ok_or_else(|| format!("unable to parse requirement: {term:?}"))
        })
        .collect()
}

struct FieldReq {
    field: String,
    value: String,
    negate: bool,
}

impl FieldReq {
    fn matches(&self, o: &Obj) -> bool {
        let actual = match self.field.as_str() {
            "metadata.name" => o.name.as_str(),
            "metadata.namespace" => o.ns.as_str(),
            f => o
                .fields
                .iter()
                .find(|(k, _)| *k == f)
                .map_or("", |(_, v)| v.as_str()),
        };
        (actual == self.value) != self.negate
    }
}

/// `metadata.name`, `metadata.namespace`, and the kind's own selectable fields (pods:
/// `spec.nodeName`; events: `reason`, `involvedObject.*`), with `=`, `==`, `!=`.
fn parse_fields(sel: &str, res: &Resource) -> Result<Vec<FieldReq>, String> {
    let own: &[&str] = match res.plural {
        "pods" => &["spec.nodeName"],
        "events" => &[
            "reason",
            "involvedObject.kind",
            "involvedObject.name",
            "involvedObject.namespace",
        ],
        _ => &[],
    };
    sel.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|term| {
            let (field, value, negate) = if let Some((f, v)) = term.split_once("!=") {
                (f, v, true)
            } else if let Some((f, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
                (f, v, false)
            } else {
                return Err(format!("invalid field selector: {term:?}"));
            };
            let field = field.trim();
            match field {
                "metadata.name" | "metadata.namespace" => {}
                f if own.contains(&f) => {}
                _ => return Err(format!("field label not supported: {field}")),
            }
            Ok(FieldReq {
                field: field.into(),
                value: value.trim().into(),
                negate,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(groups: &[&str], resources: &[&str], names: &[&str], verbs: &[&str]) -> PolicyRule {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect();
        PolicyRule {
            api_groups: v(groups),
            resources: v(resources),
            resource_names: v(names),
            verbs: v(verbs),
            non_resource_urls: vec![],
        }
    }

    fn res<'a>(
        group: &'a str,
        resource: &'a str,
        sub: Option<&'a str>,
        name: Option<&'a str>,
    ) -> AuthTarget<'a> {
        AuthTarget::Resource {
            group,
            resource,
            sub,
            name,
        }
    }

    #[test]
    fn rbac_matching_like_kube_apiserver() {
        let cm = rule(&[""], &["configmaps"], &["kube-proxy"], &["get"]);
        assert!(cm.allows("get", &res("", "configmaps", None, Some("kube-proxy"))));
        assert!(!cm.allows("get", &res("", "configmaps", None, Some("other"))));
        // resourceNames never allow a list (there is no name to match).
        assert!(!cm.allows("list", &res("", "configmaps", None, None)));
        assert!(!cm.allows("get", &res("apps", "configmaps", None, Some("kube-proxy"))));
        // A subresource needs its own entry (or */sub); the parent does not grant it.
        let pods = rule(&[""], &["pods"], &[], &["get", "list"]);
        assert!(!pods.allows("get", &res("", "pods", Some("log"), Some("p"))));
        let any_log = rule(&[""], &["*/log"], &[], &["get"]);
        assert!(any_log.allows("get", &res("", "pods", Some("log"), Some("p"))));
        assert!(!any_log.allows("get", &res("", "pods", None, Some("p"))));
        let all = rule(&["*"], &["*"], &[], &["*"]);
        assert!(all.allows("delete", &res("apps", "daemonsets", None, Some("x"))));
        // Non-resource URLs: exact or prefix*, and only for non-resource requests.
        let version = PolicyRule {
            non_resource_urls: vec!["/version".into(), "/healthz/*".into()],
            verbs: vec!["get".into()],
            ..Default::default()
        };
        assert!(version.allows("get", &AuthTarget::NonResource("/version")));
        assert!(version.allows("get", &AuthTarget::NonResource("/healthz/etcd")));
        assert!(!version.allows("get", &AuthTarget::NonResource("/versions")));
        assert!(!version.allows("post", &AuthTarget::NonResource("/version")));
        assert!(!version.allows("get", &res("", "version", None, None)));
    }

    #[test]
    fn base64_as_kubeconfig_data() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foob"), "Zm9vYg==");
    }
}
