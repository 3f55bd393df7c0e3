//! The plain cluster model: everything netcheck reads, in the shape the Kubernetes API serves it,
//! pruned to the fields netcheck uses. A snapshot is this model serialised; the test API server
//! serves it back; kubectl can read the same objects.

mod config;
mod daemonset;
mod endpoints;
mod event;
mod fast;
mod few;
mod host;
mod name;
mod node;
mod object;
mod pod;
mod policy;
mod rules;
mod service;
mod strmap;

pub use config::*;
pub use daemonset::*;
pub use endpoints::*;
pub use event::*;
pub use fast::{FastMap, FastSet};
pub use few::OneOrMany;
pub use host::*;
pub(crate) use name::text_key;
pub(crate) use name::NameSet;
pub use name::{Name, PodName, PodRef};
pub use node::*;
pub use object::*;
pub use pod::*;
pub use policy::*;
pub use rules::*;
pub use service::*;
pub use strmap::StrMap;
/// Text of the model that is nearly always short (names, namespaces, timestamps, addresses):
/// up to 24 bytes inline, no allocation of its own.
pub type Str = compact_str::CompactString;

use serde::{Deserialize, Serialize};

pub const SNAPSHOT_API_VERSION: &str = "netcheck/v1";
pub const SNAPSHOT_KIND: &str = "Snapshot";

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Cluster {
    pub api_version: String,
    pub kind: String,
    #[serde(default)]
    pub source: SourceInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
    #[serde(default)]
    pub nodes: Vec<Node>,
    /// Infrastructure pods in full; other pods are pruned as they are read (so a snapshot of
    /// full Pod objects is never held whole) and moved to `workload_pods` on load.
    #[serde(default, deserialize_with = "pod::pruned_pods")]
    pub pods: Vec<Pod>,
    /// Ordinary pods, reduced to placement and addresses: most of a big cluster's pods.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "pod::shared_workload_pods"
    )]
    pub workload_pods: Vec<WorkloadPod>,
    #[serde(default)]
    pub services: Vec<Service>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub endpoint_slices: Vec<EndpointSlice>,
    /// Core Endpoints, read only when EndpointSlices could not be.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub endpoints: Vec<Endpoints>,
    /// Which API the endpoints came from (discovery.k8s.io/v1 or v1); absent in snapshots
    /// taken before netcheck read them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoints_api: Option<String>,
    #[serde(default)]
    pub daemon_sets: Vec<DaemonSet>,
    #[serde(default)]
    pub config_maps: Vec<ConfigMap>,
    #[serde(default)]
    pub service_cidrs: Vec<ServiceCidr>,
    /// ClusterIPs held by the allocator (1.33+), when served and readable.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ip_addresses: Vec<IpAddress>,
    #[serde(default)]
    pub ip_pools: Vec<IpPool>,
    /// Objects of APIs only some distributions serve (see `model::API_TYPES`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<ApiObject>,
    #[serde(default)]
    pub logs: Vec<PodLog>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<HostFacts>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<ServiceCidrProbe>,
    /// Events of the reasons in `EVENT_REASONS` (address exhaustion), newest kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<Event>,
    /// NetworkPolicies of all namespaces; `None` when not read (a refused read, or a snapshot
    /// taken before netcheck read them): reachability is then unknown, not "no policies".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_policies: Option<Vec<NetworkPolicy>>,
    /// Namespaces with their labels, for namespaceSelectors; `None` when not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespaces: Option<Vec<Namespace>>,
    /// Of `ROUTE_APIS`, the kinds found served (`plural.group`), so that none of a kind is
    /// told from a kind not installed; `None` when they were not read (an older snapshot, a
    /// dump).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_apis: Option<Vec<String>>,
    /// Rule dumps of nodes' data planes (--rules, --on-node).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rule_sets: Vec<RuleSet>,

    /// What could not be read, and why. Kept in snapshots so offline answers stay honest.
    #[serde(default)]
    pub errors: Vec<CollectError>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct SourceInfo {
    /// live, snapshot, on-node
    #[serde(default)]
    pub mode: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collected_at: Option<String>,
}

/// A read that failed: the thing, why, and the permission that would allow it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CollectError {
    /// What was being read, e.g. `configmap kube-system/kube-proxy`.
    pub what: String,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needs: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    #[serde(default)]
    pub name: Str,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<Str>,
    #[serde(default, skip_serializing_if = "StrMap::is_empty")]
    pub labels: StrMap,
    #[serde(default, skip_serializing_if = "StrMap::is_empty")]
    pub annotations: StrMap,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owner_references: Vec<OwnerRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_timestamp: Option<Str>,
    /// Set when the object is being deleted (a terminating pod).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_timestamp: Option<Str>,
}

impl Meta {
    pub fn shrink_to_fit(&mut self) {
        self.labels.shrink_to_fit();
        self.annotations.shrink_to_fit();
        self.owner_references.shrink_to_fit();
    }
    pub fn ns(&self) -> &str {
        self.namespace.as_deref().unwrap_or("")
    }
    pub fn label(&self, k: &str) -> Option<&str> {
        self.labels.get(k).map(|v| v.as_str())
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OwnerRef {
    #[serde(default)]
    pub kind: Str,
    #[serde(default)]
    pub name: Str,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller: Option<bool>,
}

impl Cluster {
    /// Addresses of every non-hostNetwork pod, full or reduced.
    pub fn pod_addresses(&self) -> impl Iterator<Item = PodAddress<'_>> {
        let full = self
            .pods
            .iter()
            .filter(|p| !p.spec.host_network)
            .flat_map(|p| {
                let finished = p.finished();
                p.ips()
                    .into_iter()
                    .filter_map(crate::cidr::parse_ip)
                    .map(move |ip| PodAddress {
                        namespace: p.metadata.ns(),
                        name: p.name().into(),
                        finished,
                        ip,
                    })
            });
        let reduced = self
            .workload_pods
            .iter()
            .filter(|w| !w.host_network)
            .flat_map(|w| {
                w.ips.iter().map(move |ip| PodAddress {
                    namespace: &w.namespace,
                    name: (&w.name).into(),
                    finished: w.finished,
                    ip: *ip,
                })
            });
        full.chain(reduced)
    }
    pub fn pod_count(&self) -> usize {
        self.pods.len() + self.workload_pods.len()
    }
    /// Moves pruned ordinary pods out of `pods` into their reduced form.
    /// and shares equal label sets and port lists between them.
    pub fn compact(&mut self) {
        if !self.pods.iter().all(Pod::is_infra) {
            let (infra, work): (Vec<Pod>, Vec<Pod>) = std::mem::take(&mut self.pods)
                .into_iter()
                .partition(Pod::is_infra);
            self.pods = infra;
            self.workload_pods
                .extend(work.iter().map(WorkloadPod::from));
        }
        let mut shapes = Shapes::default();
        for w in &mut self.workload_pods {
            shapes.share(w);
        }
        for s in &mut self.endpoint_slices {
            shapes.share_endpoints(s);
        }
        self.shrink();
    }
    /// Lists grow by doubling as they are read; a big cluster's keep the slack for good.
    pub fn shrink(&mut self) {
        self.workload_pods.shrink_to_fit();
        self.pods.shrink_to_fit();
        self.nodes.shrink_to_fit();
        self.services.shrink_to_fit();
        self.endpoint_slices.shrink_to_fit();
        // The protobuf reader shrinks each as it reads; JSON and snapshots come here.
        self.nodes.iter_mut().for_each(Node::shrink_to_fit);
        self.services.iter_mut().for_each(Service::shrink_to_fit);
        self.endpoint_slices
            .iter_mut()
            .for_each(EndpointSlice::shrink_to_fit);
    }
    pub fn new_snapshot() -> Self {
        Cluster {
            api_version: SNAPSHOT_API_VERSION.into(),
            kind: SNAPSHOT_KIND.into(),
            ..Default::default()
        }
    }
    pub fn config_map(&self, ns: &str, name: &str) -> Option<&ConfigMap> {
        self.config_maps
            .iter()
            .find(|c| c.metadata.name == name && c.metadata.ns() == ns)
    }
    pub fn objects_of<'a>(&'a self, t: &'a ApiType) -> impl Iterator<Item = &'a ApiObject> + 'a {
        self.objects.iter().filter(move |o| o.is(t))
    }
    pub fn daemon_set(&self, ns: &str, name: &str) -> Option<&DaemonSet> {
        self.daemon_sets
            .iter()
            .find(|d| d.metadata.name == name && d.metadata.ns() == ns)
    }
    /// Logs by (namespace, pod, container, previous), for lookups in per-node loops.
    /// Looked up once a node by kube-proxy's answer: Fx, not SipHash (callgrind, issue #20).
    pub fn log_index(&self) -> FastMap<(&str, &str, &str, bool), &PodLog> {
        let mut m = FastMap::with_capacity_and_hasher(self.logs.len(), Default::default());
        for l in &self.logs {
            let key = (&*l.namespace, &*l.pod, &*l.container, l.previous);
            m.entry(key).or_insert(l);
        }
        m
    }
    pub fn log(&self, ns: &str, pod: &str, container: &str, previous: bool) -> Option<&PodLog> {
        self.logs.iter().find(|l| {
            l.namespace == ns && l.pod == pod && l.container == container && l.previous == previous
        })
    }
    /// The collection error recorded for `what`, if the read failed.
    pub fn error_for(&self, what: &str) -> Option<&CollectError> {
        self.errors.iter().find(|e| e.what == what)
    }
    /// Minor version of the API server (e.g. 26 for v1.26.0), or of the newest kubelet.
    pub fn minor_version(&self) -> Option<u32> {
        let parse = |v: &str| -> Option<u32> {
            let v = v.trim_start_matches('v');
            let mut it = v.split('.');
            let _major = it.next()?;
            it.next()?
                .chars()
                .take_while(|c| c.is_ascii_digit())
                .collect::<String>()
                .parse()
                .ok()
        };
        self.server_version.as_deref().and_then(parse).or_else(|| {
            self.nodes
                .iter()
                .filter_map(|n| n.status.node_info.as_ref())
                .filter_map(|i| parse(&i.kubelet_version))
                .max()
        })
    }
}

/// Pushes with at most an eighth of spare room, where doubling would leave up to half of a
/// 150,000-pod list unused (heaptrack at 5,000 nodes: the workload pods' Vec peaked at 33.5 MB
/// for 18 MB of pods). Large blocks grow in place (mremap), so the extra growth steps are cheap.
pub fn push_bounded<T>(v: &mut Vec<T>, x: T) {
    if v.len() == v.capacity() {
        v.reserve_exact((v.len() / 8).max(64));
    }
    v.push(x);
}

/// The `what` of collection errors, shared by collectors (which record them) and discovery
/// (which turns them into "skipped" sources).
pub mod what {
    pub const VERSION: &str = "version";
    pub const NODES: &str = "nodes";
    pub const PODS: &str = "pods";
    pub const SERVICES: &str = "services";
    pub const ENDPOINTSLICES: &str = "endpointslices";
    pub const ENDPOINTS: &str = "endpoints";
    pub const DAEMONSETS: &str = "daemonsets";
    pub const SERVICECIDRS: &str = "servicecidrs";
    pub const IPPOOLS: &str = "ippools";
    pub const IPADDRESSES: &str = "ipaddresses";
    pub const NETWORKPOLICIES: &str = "networkpolicies";
    pub const NAMESPACES: &str = "namespaces";
    pub fn events(reason: &str) -> String {
        format!("events reason={reason}")
    }
    /// A read of one of `model::API_TYPES`: `networks.config.openshift.io/cluster`, or the
    /// whole collection `subnets.kubeovn.io`.
    pub fn object(t: &super::ApiType, name: Option<&str>) -> String {
        match name {
            Some(n) => format!("{}/{n}", t.resource()),
            None => t.resource(),
        }
    }
    pub const PROBE: &str = "service-cidr probe";
    pub const HOST: &str = "host";
    pub fn config_map(ns: &str, name: &str) -> String {
        format!("configmap {ns}/{name}")
    }
    pub fn log(ns: &str, pod: &str, container: &str, previous: bool) -> String {
        let p = if previous { " (previous)" } else { "" };
        format!("{LOG}{ns}/{pod} [{container}]{p}")
    }
    const LOG: &str = "log ";
    /// Whether `what` names a pod log's read (as [`log`] makes it).
    pub fn is_log(what: &str) -> bool {
        what.starts_with(LOG)
    }
}

/// `f` over `items` on two threads that take them in turn, the results in the items' order:
/// the steps that walk every Service or every check, where the other core would idle.
pub fn in_two<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = vec![];
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(t) = items.get(i) else {
                return done;
            };
            done.push((i, f(t)));
        }
    };
    let mut done = std::thread::scope(|s| {
        let other = s.spawn(work);
        let mut done = work();
        done.extend(
            other
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e)),
        );
        done
    });
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::in_two;

    #[test]
    fn in_two_answers_every_item_once_in_item_order() {
        let items: Vec<u32> = (0..1000).collect();
        // Uneven work, so that the two threads interleave.
        let out = in_two(&items, |&i| {
            if i % 7 == 0 {
                std::thread::yield_now();
            }
            i * 3
        });
        assert_eq!(out, items.iter().map(|i| i * 3).collect::<Vec<_>>());
        assert!(in_two(&[] as &[u32], |&i| i).is_empty());
    }

    #[test]
    fn in_two_passes_a_panic_on() {
        let items: Vec<u32> = (0..100).collect();
        let r = std::panic::catch_unwind(|| in_two(&items, |&i| assert_ne!(i, 57)));
        assert!(r.is_err());
    }
}
