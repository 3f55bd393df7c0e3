//! The live collector: what netcheck reads from the API server, in two rounds (the second
//! asks for what the first showed is needed: the CNI's configuration, logs). The request
//! engine (paging, retries, deadlines, protobuf) is in `api.rs`.

use super::api::{encode, err, futures_join, Answer, Api, Decoder, Item, ReqError, JSON};
use super::watch::{self, Changes, Key, Keyed, Watches};
use super::{proto, Fatal};
use crate::discover::{plan, proxy};
use crate::model::*;
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Options {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub request_timeout: Duration,
    /// Whole-run bound: reads still pending then are reported as skipped.
    pub deadline: Duration,
    pub page_size: u32,
    pub logs: proxy::LogPolicy,
    pub log_bytes: usize,
    pub log_concurrency: usize,
    /// Opt-in: send a dry-run Service create to learn the service range from the error.
    pub probe_service_cidr: bool,
}

/// The resources read as lists. Adding one: a model type, a line here, a read in `collect`.
impl Item for Node {
    const PROTOBUF: Option<Decoder<Self>> = Some(proto::node);
}
impl Item for Service {
    const PROTOBUF: Option<Decoder<Self>> = Some(proto::service);
}
impl Item for DaemonSet {}
impl Item for ServiceCidr {}
impl Item for IpPool {}
impl Item for ApiObject {}
impl Item for EndpointSlice {
    const PROTOBUF: Option<Decoder<Self>> = Some(proto::endpoint_slice);
}
impl Item for Endpoints {}
impl Item for Event {}
impl Item for IpAddress {}
impl Item for NetworkPolicy {}
impl Item for Namespace {}
impl Item for PodEntry {
    const PROTOBUF: Option<Decoder<Self>> = Some(proto::pod);
}

/// Only these node annotations are read; dropping the rest keeps large clusters small.
pub(super) const NODE_ANNOTATIONS: &[&str] = &[
    "k3s.io/",
    "rke2.io/",
    "flannel.alpha.coreos.com/",
    "projectcalico.org/",
    "network.cilium.io/",
    "kube-router.io/",
    "k8s.ovn.org/",
];
pub(super) const POD_ANNOTATIONS: &[&str] =
    &["kubernetes.io/config.mirror", "kubernetes.io/config.source"];

pub async fn collect(o: &Options) -> Result<Cluster, Fatal> {
    Session::connect(o.clone(), false).await?.round().await
}

/// One cluster, read round after round. Watching (`--watch`), each round after the first
/// applies what the watches saw to the answers it kept from the last, and reads again only
/// what they cannot vouch for; without, every round reads everything.
pub struct Session {
    o: Options,
    client: kube::Client,
    server: String,
    watches: Option<Watches>,
    kept: Option<Cluster>,
    /// Logs read, and when: one is read again when its pod changed, or after `LOG_AGE`.
    logs: HashMap<proxy::LogRequest, (Instant, PodLog)>,
    probe: Option<ServiceCidrProbe>,
    /// The last round's model was handed back by `keep` and came from `round`.
    fresh: bool,
    absent: super::api::Absent,
}

/// Which kept answers a round can still use, by the path they were read at.
#[derive(Default)]
struct Reuse {
    seen: HashMap<String, Changes>,
    kept: HashSet<String>,
}

impl Reuse {
    /// What changed since a kept answer was read, if its watch can tell.
    fn changes(&mut self, path: &str) -> Option<Changes> {
        let ch = self.seen.remove(path)?;
        self.kept.insert(path.to_string());
        Some(ch)
    }
    /// Whether a kept answer still stands as it is: its watch saw nothing change.
    fn quiet(&mut self, path: &str) -> bool {
        if self.kept.contains(path) {
            return true;
        }
        match self.seen.remove(path) {
            Some(ch) if ch.is_empty() => self.kept.insert(path.to_string()),
            _ => false,
        }
    }
}

/// The ConfigMaps (in kube-system) read in the first round: they may say what the rest means.
pub(super) const FIRST_ROUND_CONFIG_MAPS: &[&str] = &[
    "kube-proxy",
    "kube-proxy-config",
    "kubeadm-config",
    "kubelet-config",
    "coredns",
    "node-local-dns",
];

const NODES: &str = "/api/v1/nodes";
const PODS: &str = "/api/v1/pods";
const SERVICES: &str = "/api/v1/services";
const SLICES: &str = "/apis/discovery.k8s.io/v1/endpointslices";
const DAEMONSETS: &str = "/apis/apps/v1/daemonsets";
const IPADDRESSES: &str = "/apis/networking.k8s.io/v1/ipaddresses";
const NETPOLS: &str = "/apis/networking.k8s.io/v1/networkpolicies";
const NAMESPACES: &str = "/api/v1/namespaces";
const IPPOOLS: &str = "/apis/crd.projectcalico.org/v1/ippools";
const SERVICE_CIDRS: [&str; 2] = [
    "/apis/networking.k8s.io/v1/servicecidrs",
    "/apis/networking.k8s.io/v1beta1/servicecidrs",
];

impl Session {
    pub async fn connect(o: Options, watch: bool) -> Result<Session, Fatal> {
        let (client, server) = super::kubeconfig::client(
            o.kubeconfig.as_deref(),
            o.context.as_deref(),
            o.request_timeout,
        )
        .await?;
        // Watches wait for the next event far longer than a request may take.
        let watches = match watch {
            true => {
                let (w, _) = super::kubeconfig::client_reading(
                    o.kubeconfig.as_deref(),
                    o.context.as_deref(),
                    o.request_timeout,
                    watch::IDLE,
                )
                .await?;
                Some(Watches::new(w))
            }
            false => None,
        };
        Ok(Session {
            watches,
            o,
            client,
            server,
            kept: None,
            logs: HashMap::new(),
            probe: None,
            fresh: false,
            absent: Default::default(),
        })
    }

    /// Hands back the model the last round returned, for the next round to bring up to date.
    /// Only what the API answered is taken from it; the rest is read or made anew.
    pub fn keep(&mut self, c: Cluster) {
        if self.watches.is_some() && std::mem::take(&mut self.fresh) && c.source.mode == "live" {
            self.kept = Some(c);
        }
    }

    /// Reads made again this round because their watch was lost, with why.
    pub fn lost(&mut self) -> Vec<(String, String)> {
        self.watches.as_mut().map(Watches::lost).unwrap_or_default()
    }

    pub async fn round(&mut self) -> Result<Cluster, Fatal> {
        let o = &self.o;
        let api = Arc::new(Api {
            client: self.client.clone(),
            request_timeout: o.request_timeout,
            page_size: o.page_size,
            end: Instant::now() + o.deadline,
            versions: Default::default(),
            absent: self.watches.is_some().then(|| self.absent.clone()),
            unkept: Default::default(),
        });
        let server = &self.server;
        let mut c = Cluster::new_snapshot();
        c.source = SourceInfo {
            mode: "live".into(),
            context: o.context.clone(),
            server: Some(server.clone()),
            file: None,
            collected_at: None,
        };

        // A first request tells an unreachable server or rejected credentials apart from RBAC
        // gaps; watching, it is also how an upgrade is seen.
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Version {
            git_version: String,
        }
        match api.get_json::<Version>("/version").await {
            Ok(v) => c.server_version = Some(v.git_version),
            Err(
                e @ ReqError::Status {
                    code: 403 | 404, ..
                },
            ) => c
                .errors
                .push(err(what::VERSION, &e, "get /version (nonResourceURLs)")),
            Err(ReqError::Status {
                code: 401, message, ..
            }) => {
                return Err(Fatal(format!(
                    "API server {server} rejected the credentials (401 Unauthorized): {message}"
                )))
            }
            Err(e) => {
                return Err(Fatal(format!(
                    "cannot reach the API server {server}: {}",
                    e.describe()
                )))
            }
        }

        // Without the last round's answers (a first round, or one that failed) the watches'
        // changes have nothing to apply to: everything is read.
        let seen = self.watches.as_mut().map(Watches::take).unwrap_or_default();
        let mut reuse = Reuse::default();
        if self.kept.is_some() {
            reuse.seen = seen;
        }
        let mut prev = self.kept.take().unwrap_or_default();
        let cms: Vec<_> = FIRST_ROUND_CONFIG_MAPS
            .iter()
            .map(|n| config_map(&api, &mut reuse, &prev, "kube-system", n))
            .collect();
        let events_kept: Vec<_> = EVENT_REASONS
            .iter()
            .map(|r| {
                let kept = reuse.quiet(&events_path(r)).then(|| {
                    let (of, rest) = std::mem::take(&mut prev.events)
                        .into_iter()
                        .partition(|e| e.reason == *r);
                    prev.events = rest;
                    of
                });
                events(api.clone(), r, kept)
            })
            .collect();
        let slices_kept = (prev.endpoints_api.as_deref() == Some("discovery.k8s.io/v1"))
            .then(|| reuse.changes(SLICES))
            .flatten()
            .map(|ch| (std::mem::take(&mut prev.endpoint_slices), ch));
        let pods_kept = reuse.changes(PODS).map(|ch| {
            let both = (
                std::mem::take(&mut prev.pods),
                std::mem::take(&mut prev.workload_pods),
            );
            (both, ch)
        });
        let sc_kept: Option<Vec<ServiceCidr>> = SERVICE_CIDRS
            .iter()
            .any(|p| reuse.quiet(p))
            .then(|| std::mem::take(&mut prev.service_cidrs));
        let sc_was_kept = sc_kept.is_some();
        // Routes: a kind is kept as it was if the version it was read at saw no change.
        let routes_kept: Vec<_> = ROUTE_APIS
            .iter()
            .map(|versions| {
                let kept = versions
                    .iter()
                    .any(|t| reuse.quiet(&t.path(None)))
                    .then(|| {
                        prev.objects
                            .iter()
                            .filter(|o| versions.iter().any(|t| o.is(t)))
                            .cloned()
                            .collect::<Vec<_>>()
                    });
                let api = api.clone();
                async move {
                    match kept {
                        Some(v) => (*versions, Ok(Some(v))),
                        None => route_objects(api, versions).await,
                    }
                }
            })
            .collect();
        macro_rules! kept {
            ($path:expr, $field:expr) => {
                reuse
                    .changes($path)
                    .map(|ch| (std::mem::take(&mut $field), ch))
            };
        }
        let (nodes, pods, services, slices, dss, sc, cms, events, ipa, netpols, namespaces, routes) = tokio::join!(
            list_kept(&api, NODES, kept!(NODES, prev.nodes), node),
            read_pods(&api, pods_kept),
            list_kept(&api, SERVICES, kept!(SERVICES, prev.services), Some),
            async {
                // Not brought up to date: read as in a first round (slices, else Endpoints),
                // which lists the slices once, not twice.
                match up_to_date(&api, SLICES, slices_kept, Some) {
                    Some(v) => EndpointRead {
                        api: Some("discovery.k8s.io/v1".into()),
                        slices: v,
                        ..EndpointRead::default()
                    },
                    None => endpoints(&api).await,
                }
            },
            list_kept(&api, DAEMONSETS, kept!(DAEMONSETS, prev.daemon_sets), Some),
            async {
                match sc_kept {
                    Some(v) => Ok(v),
                    None => service_cidrs(&api).await,
                }
            },
            futures_join(cms),
            futures_join(events_kept),
            list_kept(
                &api,
                IPADDRESSES,
                kept!(IPADDRESSES, prev.ip_addresses),
                ip_address
            ),
            list_kept(
                &api,
                NETPOLS,
                reuse
                    .changes(NETPOLS)
                    .map(|ch| (prev.network_policies.take().unwrap_or_default(), ch)),
                network_policy
            ),
            // Only the labels: namespaceSelectors read nothing else.
            list_kept(
                &api,
                NAMESPACES,
                reuse
                    .changes(NAMESPACES)
                    .map(|ch| (prev.namespaces.take().unwrap_or_default(), ch)),
                namespace
            ),
            futures_join(routes_kept),
        );
        let mut served = vec![];
        for (versions, res) in routes {
            let resource = versions[0].resource();
            match res {
                Ok(Some(v)) => {
                    c.objects.extend(v);
                    served.push(resource);
                }
                Ok(None) => {}
                Err(e) => c.errors.push(err(
                    &what::object(&versions[0], None),
                    &e,
                    &match versions[0].namespaced {
                        true => format!("list {resource} (all namespaces)"),
                        false => format!("list {resource}"),
                    },
                )),
            }
        }
        c.route_apis = Some(served);
        match netpols {
            Ok(v) => c.network_policies = Some(v),
            // Not served (only a server before 1.7, or a test's): there can be none.
            Err(e) if e.code() == Some(404) => c.network_policies = Some(vec![]),
            Err(e) => c.errors.push(err(
                what::NETWORKPOLICIES,
                &e,
                "list networkpolicies.networking.k8s.io (all namespaces)",
            )),
        }
        match namespaces {
            Ok(v) => c.namespaces = Some(v),
            Err(e) => c.errors.push(err(what::NAMESPACES, &e, "list namespaces")),
        }
        match ipa {
            Ok(v) => c.ip_addresses = v,
            // Not served before 1.33 (beta and off by default before).
            Err(e) if e.code() == Some(404) => {}
            Err(e) => c.errors.push(err(
                what::IPADDRESSES,
                &e,
                "list ipaddresses.networking.k8s.io",
            )),
        }
        for (reason, res) in events {
            match res {
                Ok(v) => c.events.extend(v),
                Err(e) => c.errors.push(err(
                    &what::events(reason),
                    &e,
                    "list events (all namespaces)",
                )),
            }
        }
        record(
            &mut c.nodes,
            nodes,
            &mut c.errors,
            what::NODES,
            "list nodes",
        );
        let (pods, changed_pods) = pods;
        match pods {
            Ok(v) => (c.pods, c.workload_pods) = v,
            Err(e) => c
                .errors
                .push(err(what::PODS, &e, "list pods (all namespaces)")),
        }
        record(
            &mut c.services,
            services,
            &mut c.errors,
            what::SERVICES,
            "list services (all namespaces)",
        );
        c.endpoints_api = slices.api;
        c.endpoint_slices = slices.slices;
        c.endpoints = slices.endpoints;
        c.errors.extend(slices.errors);
        record(
            &mut c.daemon_sets,
            dss,
            &mut c.errors,
            what::DAEMONSETS,
            "list daemonsets.apps (all namespaces)",
        );
        match sc {
            Ok(v) => c.service_cidrs = v,
            Err(e) => c.errors.push(err(
                what::SERVICECIDRS,
                &e,
                "list servicecidrs.networking.k8s.io",
            )),
        }
        add_config_maps(&mut c, cms);
        c.shrink();

        // Second round: what the first one showed is needed (the CNI's own configuration, logs).
        let plan = plan::second_round(&c, o.logs);
        let cm_reqs = plan
            .config_maps
            .iter()
            .map(|(ns, name)| config_map(&api, &mut reuse, &prev, ns, name))
            .collect();
        let obj_reqs: Vec<_> = plan
            .objects
            .iter()
            .cloned()
            .map(|r| {
                let api = api.clone();
                let path = match r.name {
                    Some(n) => format!("{}/{}", r.api.path(r.namespace), encode(n)),
                    None => r.api.path(r.namespace),
                };
                let kept = reuse.quiet(&path).then(|| {
                    prev.objects
                        .iter()
                        .filter(|x| {
                            x.is(&r.api)
                                && r.name.is_none_or(|n| x.metadata.name == n)
                                && r.namespace.is_none_or(|ns| x.metadata.ns() == ns)
                        })
                        .cloned()
                        .collect()
                });
                async move {
                    let res = match kept {
                        Some(v) => Ok(v),
                        None => read_objects(&api, &r, &path).await,
                    };
                    (r, res)
                }
            })
            .collect();
        let pools_kept =
            (plan.ip_pools && reuse.quiet(IPPOOLS)).then(|| std::mem::take(&mut prev.ip_pools));
        // A log is read again when its pod changed (a restart, a new pod of the same name).
        match &changed_pods {
            None => self.logs.clear(),
            Some(keys) => self.logs.retain(|r, (at, _)| {
                at.elapsed() < LOG_AGE && !keys.contains(&(r.namespace.clone(), r.pod.clone()))
            }),
        }
        // The probe's answer is the service range: asked again when the ServiceCIDRs changed.
        if !sc_was_kept {
            self.probe = None;
        }
        let (log_kept, log_reqs): (Vec<_>, Vec<_>) = plan
            .logs
            .into_iter()
            .partition(|r| self.logs.contains_key(r));
        let probe_kept = self.probe.clone();
        let (cms, objects, pools, logs, probe) = tokio::join!(
            futures_join(cm_reqs),
            futures_join(obj_reqs),
            async {
                match (plan.ip_pools, pools_kept) {
                    (_, Some(p)) => Some(Ok(p)),
                    (true, None) => Some(api.list::<IpPool>(IPPOOLS, Some).await),
                    (false, None) => None,
                }
            },
            read_logs(&api, log_reqs, o),
            async {
                match (o.probe_service_cidr, probe_kept) {
                    (true, Some(p)) => Some(Ok(p)),
                    (true, None) => Some(probe(&api).await),
                    (false, _) => None,
                }
            },
        );
        add_config_maps(&mut c, cms);
        for (r, res) in objects {
            match res {
                Ok(v) => c.objects.extend(v),
                // Not served: the CRD is not installed, or the object does not exist.
                Err(e) if e.code() == Some(404) => {}
                Err(e) => {
                    let verb = if r.name.is_some() { "get" } else { "list" };
                    let needs = match r.name {
                        Some(n) => format!("get {} {n}", r.api.resource()),
                        None => format!("{verb} {}", r.api.resource()),
                    };
                    c.errors
                        .push(err(&what::object(&r.api, r.name), &e, &needs));
                }
            }
        }
        match pools {
            Some(Ok(p)) => c.ip_pools = p,
            Some(Err(e)) if e.code() == Some(404) => {}
            Some(Err(e)) => {
                c.errors
                    .push(err(what::IPPOOLS, &e, "list ippools.crd.projectcalico.org"))
            }
            None => {}
        }
        let watching = self.watches.is_some();
        for r in log_kept {
            c.logs.extend(self.logs.get(&r).map(|(_, l)| l.clone()));
        }
        for (req, res) in logs {
            match res {
                Ok(l) => {
                    if watching {
                        self.logs.insert(req, (Instant::now(), l.clone()));
                    }
                    c.logs.push(l)
                }
                Err(e) => c.errors.push(err(
                    &what::log(&req.namespace, &req.pod, &req.container, req.previous),
                    &e,
                    &format!("get pods/log in {}", req.namespace),
                )),
            }
        }
        match probe {
            Some(Ok(p)) => {
                if watching {
                    self.probe = Some(p.clone());
                }
                c.probe = Some(p)
            }
            Some(Err(e)) => {
                c.errors
                    .push(err(what::PROBE, &e, "create services in default (dry run)"))
            }
            None => {}
        }
        if let Some(w) = &mut self.watches {
            let made = std::mem::take(&mut *api.versions.lock().unwrap_or_else(|e| e.into_inner()));
            for p in api.unkept.lock().unwrap_or_else(|e| e.into_inner()).iter() {
                reuse.kept.remove(p);
            }
            w.follow(made, &reuse.kept);
        }
        self.fresh = true;
        Ok(c)
    }
}

/// A kept log is read again after this even if its pod did not change (it may have grown).
const LOG_AGE: Duration = Duration::from_secs(300);

/// A list kept from the last round and brought up to date with its watch's changes, or else
/// read (each item reduced by `keep` either way).
async fn list_kept<T: Item + Keyed>(
    api: &Arc<Api>,
    path: &str,
    kept: Option<(Vec<T>, Changes)>,
    keep: fn(T) -> Option<T>,
) -> Result<Vec<T>, ReqError> {
    match up_to_date(api, path, kept, keep) {
        Some(v) => Ok(v),
        None => api.list(path, keep).await,
    }
}

/// A kept list with its watch's changes applied; `None` when there is none, or a change did
/// not decode (its watch is then dropped, whatever is read instead).
fn up_to_date<T: Keyed + serde::de::DeserializeOwned>(
    api: &Api,
    path: &str,
    kept: Option<(Vec<T>, Changes)>,
    keep: fn(T) -> Option<T>,
) -> Option<Vec<T>> {
    let (mut v, ch) = kept?;
    if watch::apply(&mut v, ch, keep).is_ok() {
        return Some(v);
    }
    api.unkept
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(path.into());
    None
}

/// Only these node annotations are read; dropping the rest keeps large clusters small.
fn node(mut n: Node) -> Option<Node> {
    n.metadata
        .annotations
        .retain(|k, _| NODE_ANNOTATIONS.iter().any(|p| k.starts_with(p)));
    Some(n)
}

fn ip_address(mut a: IpAddress) -> Option<IpAddress> {
    a.metadata = Meta {
        name: std::mem::take(&mut a.metadata.name),
        ..Meta::default()
    };
    Some(a)
}

fn network_policy(mut p: NetworkPolicy) -> Option<NetworkPolicy> {
    p.metadata = Meta {
        name: std::mem::take(&mut p.metadata.name),
        namespace: p.metadata.namespace.take(),
        ..Meta::default()
    };
    Some(p)
}

fn namespace(mut n: Namespace) -> Option<Namespace> {
    n.metadata = Meta {
        name: std::mem::take(&mut n.metadata.name),
        labels: std::mem::take(&mut n.metadata.labels),
        ..Meta::default()
    };
    Some(n)
}

type PodLists = (Vec<Pod>, Vec<WorkloadPod>);

/// Infrastructure pods are kept whole, others reduced (see [`PodEntry`]). With the pods kept
/// from the last round, also which ones changed (`None`: all were read anew).
async fn read_pods(
    api: &Arc<Api>,
    kept: Option<(PodLists, Changes)>,
) -> (Result<PodLists, ReqError>, Option<HashSet<Key>>) {
    if let Some(((mut infra, mut workload), ch)) = kept {
        let keys: HashSet<Key> = ch.keys().cloned().collect();
        let decoded =
            watch::Pending::decode(ch, |s| serde_json::from_str(s).map(|e| Some(pod_entry(e))));
        if let Ok(mut new) = decoded {
            // A pod may change kind (a workload pod turned infrastructure by a new label).
            infra.retain_mut(|p| match new.take(p.metadata.ns(), p.name()) {
                None => true,
                Some(None) => false,
                Some(Some(PodEntry::Infra(n))) => {
                    *p = *n;
                    true
                }
                Some(Some(w)) => {
                    new.put_back(p.metadata.ns(), p.name(), w);
                    false
                }
            });
            let mut name = String::new();
            workload.retain_mut(|w| {
                let (stem, tail) = PodRef::from(&w.name).parts();
                name.clear();
                name.push_str(stem);
                name.push_str(tail);
                match new.take(&w.namespace, &name) {
                    None => true,
                    Some(None) => false,
                    Some(Some(PodEntry::Workload(n))) => {
                        *w = n;
                        true
                    }
                    Some(Some(i)) => {
                        new.put_back(&w.namespace, &name, i);
                        false
                    }
                }
            });
            let before = (infra.len(), workload.len());
            for e in new.rest() {
                match e {
                    PodEntry::Infra(p) => infra.push(*p),
                    PodEntry::Workload(w) => workload.push(w),
                }
            }
            if infra.len() > before.0 {
                infra.sort_by(|a, b| {
                    watch::in_key_order((a.metadata.ns(), a.name()), (b.metadata.ns(), b.name()))
                });
            }
            if workload.len() > before.1 {
                workload.sort_by(|a, b| {
                    watch::in_key_order((&a.namespace, &a.name), (&b.namespace, &b.name))
                });
            }
            return (Ok((infra, workload)), Some(keys));
        }
        api.unkept
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(PODS.into());
    }
    let (mut infra, mut workload) = (vec![], vec![]);
    let mut shapes = Shapes::default();
    let res = api
        .list_into::<PodEntry>(PODS, |e| match e.map(pod_entry) {
            Some(PodEntry::Infra(p)) => push_bounded(&mut infra, *p),
            Some(PodEntry::Workload(mut w)) => {
                shapes.share(&mut w);
                push_bounded(&mut workload, w);
            }
            None => {
                infra.clear();
                workload.clear();
            }
        })
        .await;
    (res.map(|()| (infra, workload)), None)
}

fn pod_entry(e: PodEntry) -> PodEntry {
    match e {
        PodEntry::Infra(mut p) => {
            p.metadata
                .annotations
                .retain(|k, _| POD_ANNOTATIONS.contains(&k.as_str()));
            PodEntry::Infra(p)
        }
        w => w,
    }
}

/// A ConfigMap kept from the last round if its watch saw no change (kept absent too), or else
/// got.
fn config_map(
    api: &Arc<Api>,
    reuse: &mut Reuse,
    prev: &Cluster,
    ns: &str,
    name: &str,
) -> impl std::future::Future<Output = (String, String, Result<ConfigMap, ReqError>)> + Send + 'static
{
    let api = api.clone();
    let path = format!(
        "/api/v1/namespaces/{}/configmaps/{}",
        encode(ns),
        encode(name)
    );
    let kept = reuse.quiet(&path).then(|| {
        prev.config_map(ns, name).cloned().ok_or(ReqError::Status {
            code: 404,
            reason: "NotFound".into(),
            message: format!("configmaps \"{name}\" not found"),
        })
    });
    let (ns, name) = (ns.to_string(), name.to_string());
    async move {
        let res = match kept {
            Some(r) => r,
            None => api.get_object::<ConfigMap>(&path).await,
        };
        (ns, name, res)
    }
}

fn record<T>(
    into: &mut Vec<T>,
    res: Result<Vec<T>, ReqError>,
    errors: &mut Vec<CollectError>,
    what_: &str,
    needs: &str,
) {
    match res {
        Ok(v) => *into = v,
        Err(e) => errors.push(err(what_, &e, needs)),
    }
}

fn add_config_maps(c: &mut Cluster, res: Vec<(String, String, Result<ConfigMap, ReqError>)>) {
    for (ns, name, r) in res {
        match r {
            Ok(m) => c.config_maps.push(m),
            Err(e) if e.code() == Some(404) => {}
            Err(e) => c.errors.push(err(
                &what::config_map(&ns, &name),
                &e,
                &format!("get configmaps in {ns}"),
            )),
        }
    }
}

fn events_path(reason: &str) -> String {
    format!("/api/v1/events?fieldSelector=reason%3D{reason}")
}

/// The events of one reason, selected by the server (or kept from the last round); at most
/// `MAX_EVENTS` are kept.
async fn events(
    api: Arc<Api>,
    reason: &'static str,
    kept: Option<Vec<Event>>,
) -> (&'static str, Result<Vec<Event>, ReqError>) {
    if let Some(v) = kept {
        return (reason, Ok(v));
    }
    let path = events_path(reason);
    let mut out = Vec::new();
    let res = api
        .list_into::<Event>(&path, |e| match e {
            Some(e) if out.len() < MAX_EVENTS => out.push(e.clipped()),
            Some(_) => {}
            None => out.clear(),
        })
        .await;
    (reason, res.map(|()| out))
}

/// ServiceCIDRs from networking.k8s.io/v1, falling back to v1beta1 on older servers.
async fn service_cidrs(api: &Arc<Api>) -> Result<Vec<ServiceCidr>, ReqError> {
    match api
        .list::<ServiceCidr>("/apis/networking.k8s.io/v1/servicecidrs", Some)
        .await
    {
        Ok(v) => Ok(v
            .into_iter()
            .map(|mut s| {
                s.api_version = Some("networking.k8s.io/v1".into());
                s
            })
            .collect()),
        Err(e) if e.code() == Some(404) => match api
            .list::<ServiceCidr>("/apis/networking.k8s.io/v1beta1/servicecidrs", Some)
            .await
        {
            Ok(v) => Ok(v
                .into_iter()
                .map(|mut s| {
                    s.api_version = Some("networking.k8s.io/v1beta1".into());
                    s
                })
                .collect()),
            // Neither version served: a server before ServiceCIDRs existed. Nothing to report.
            Err(e) if e.code() == Some(404) => Ok(vec![]),
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    }
}

async fn read_logs(
    api: &Arc<Api>,
    reqs: Vec<proxy::LogRequest>,
    o: &Options,
) -> Vec<(proxy::LogRequest, Result<PodLog, ReqError>)> {
    let sem = Arc::new(tokio::sync::Semaphore::new(o.log_concurrency.max(1)));
    let log_bytes = o.log_bytes;
    let futs = reqs.into_iter().map(|r| {
        let api = api.clone();
        let sem = sem.clone();
        async move {
            let _permit = sem.acquire_owned().await;
            let path = format!(
                "/api/v1/namespaces/{}/pods/{}/log?container={}&limitBytes={}{}",
                encode(&r.namespace),
                encode(&r.pod),
                encode(&r.container),
                log_bytes,
                if r.previous { "&previous=true" } else { "" }
            );
            // The server should stop at limitBytes; the cap guards one that does not.
            let res = api
                .call("GET", &path, vec![], log_bytes, "*/*", None)
                .await
                .map(
                    |Answer {
                         body: buf,
                         truncated,
                         ..
                     }| PodLog {
                        namespace: r.namespace.clone(),
                        pod: r.pod.clone(),
                        container: r.container.clone(),
                        previous: r.previous,
                        text: String::from_utf8_lossy(&buf).into_owned(),
                        truncated: truncated || buf.len() >= log_bytes,
                    },
                );
            (r, res)
        }
    });
    futures_join(futs.collect()).await
}

/// Opt-in (--probe-service-cidr): a dry-run create of a Service whose clusterIP is outside any
/// plausible range; the API server's refusal names the valid range. Nothing is persisted.
async fn probe(api: &Api) -> Result<ServiceCidrProbe, ReqError> {
    const IP: &str = "1.1.1.1";
    let body = serde_json::json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "netcheck-probe", "namespace": "default"},
        "spec": {"clusterIP": IP, "ports": [{"port": 80}]}
    });
    match api
        .call(
            "POST",
            "/api/v1/namespaces/default/services?dryRun=All",
            body.to_string().into_bytes(),
            1 << 20,
            JSON,
            None,
        )
        .await
    {
        Ok(_) => Ok(ServiceCidrProbe {
            requested_ip: IP.into(),
            code: 201,
            message: format!("the dry run accepted clusterIP {IP}"),
        }),
        Err(ReqError::Status { code, message, .. }) if code == 422 || code == 400 => {
            Ok(ServiceCidrProbe {
                requested_ip: IP.into(),
                code,
                message,
            })
        }
        Err(e) => Err(e),
    }
}

/// One object by name, or a whole collection, of an API that only some clusters serve.
async fn read_objects(
    api: &Arc<Api>,
    r: &plan::ObjectRead,
    path: &str,
) -> Result<Vec<ApiObject>, ReqError> {
    let mut v = match r.name {
        Some(_) => vec![api.get_object::<ApiObject>(path).await?],
        None => api.list::<ApiObject>(path, Some).await?,
    };
    // List items of built-in APIs carry no kind; custom resources do. Say it either way.
    for o in &mut v {
        o.api_version = r.api.api_version();
        o.kind = r.api.kind.into();
    }
    Ok(v)
}

/// One kind of `ROUTE_APIS` from the first version served; `None`: no version is (not
/// installed). A refusal ends the search: another version would be refused alike.
async fn route_objects(
    api: Arc<Api>,
    versions: &'static [ApiType],
) -> (&'static [ApiType], Result<Option<Vec<ApiObject>>, ReqError>) {
    for t in versions {
        let r = plan::ObjectRead {
            api: *t,
            namespace: None,
            name: None,
        };
        match read_objects(&api, &r, &t.path(None)).await {
            Ok(v) => return (versions, Ok(Some(v))),
            Err(e) if e.code() == Some(404) => {}
            Err(e) => return (versions, Err(e)),
        }
    }
    (versions, Ok(None))
}

/// What was read of the cluster's endpoints.
#[derive(Default)]
struct EndpointRead {
    api: Option<String>,
    slices: Vec<EndpointSlice>,
    endpoints: Vec<Endpoints>,
    errors: Vec<CollectError>,
}

/// Endpoints from EndpointSlices, or from core Endpoints where slices are forbidden or not
/// served (servers before 1.21): the same addresses, and the answer says which API it used.
async fn endpoints(api: &Arc<Api>) -> EndpointRead {
    let mut r = EndpointRead::default();
    let e = match api
        .list::<EndpointSlice>("/apis/discovery.k8s.io/v1/endpointslices", Some)
        .await
    {
        Ok(v) => {
            r.slices = v;
            r.api = Some("discovery.k8s.io/v1".into());
            return r;
        }
        Err(e) => e,
    };
    let needs = "list endpointslices.discovery.k8s.io (all namespaces)";
    if !matches!(e.code(), Some(403 | 404)) {
        r.errors.push(err(what::ENDPOINTSLICES, &e, needs));
        return r;
    }
    match api.list::<Endpoints>("/api/v1/endpoints", Some).await {
        Ok(v) => {
            r.endpoints = v;
            r.api = Some("v1".into());
            // Refused (not absent) slices are still a read that was not made.
            if e.code() == Some(403) {
                r.errors.push(err(what::ENDPOINTSLICES, &e, needs));
            }
        }
        // One entry: the permission to ask for is the slices', the old API is a fallback.
        Err(e2) => {
            // Slices not served (404): the Endpoints read is the only one to grant.
            let mut x = if e.code() == Some(404) {
                err(what::ENDPOINTSLICES, &e2, "list endpoints (all namespaces)")
            } else {
                err(
                    what::ENDPOINTSLICES,
                    &e,
                    &format!("{needs}, or else list endpoints (all namespaces)"),
                )
            };
            x.reason = format!("{}; core Endpoints: {}", e.describe(), e2.describe());
            r.errors.push(x);
        }
    }
    r
}
