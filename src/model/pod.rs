//! Pods: infrastructure pods kept in full, ordinary ones reduced as they are decoded.

use super::{FastMap, FastSet, Meta, Name, OwnerRef, PodName, Str, StrMap};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::{Arc, LazyLock};

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct Pod {
    #[serde(default)]
    pub metadata: Meta,
    #[serde(default)]
    pub spec: PodSpec,
    #[serde(default)]
    pub status: PodStatus,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct PodSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_name: Option<Str>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub host_network: bool,
    /// Shared between the pods of one template where they are decoded from protobuf: a
    /// DaemonSet's thousands of pods repeat the same containers.
    #[serde(default, skip_serializing_if = "<[Container]>::is_empty")]
    pub containers: Arc<[Container]>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub node_selector: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tolerations: Vec<Toleration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affinity: Option<Affinity>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub image: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvVar>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env_from: Vec<EnvFromSource>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<ContainerPort>,
}

/// A port a container declares; Services name it in targetPort.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq, Hash)]
#[serde(rename_all = "camelCase")]
pub struct ContainerPort {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub container_port: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
}

impl ContainerPort {
    pub fn protocol(&self) -> &str {
        self.protocol.as_deref().unwrap_or("TCP")
    }
}

impl Container {
    /// command followed by args: what the process sees as its argv.
    pub fn argv(&self) -> impl Iterator<Item = &str> {
        self.command.iter().chain(&self.args).map(String::as_str)
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EnvVar {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_from: Option<EnvVarSource>,
}

/// Where an env value comes from when it is not written in the spec.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EnvVarSource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_key_ref: Option<KeySelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key_ref: Option<KeySelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_ref: Option<FieldSelector>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct KeySelector {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub key: String,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FieldSelector {
    #[serde(default)]
    pub field_path: String,
}

/// A whole ConfigMap or Secret as environment variables.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EnvFromSource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_ref: Option<NameRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<NameRef>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NameRef {
    #[serde(default)]
    pub name: String,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Toleration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Affinity {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_affinity: Option<NodeAffinity>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NodeAffinity {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        rename = "requiredDuringSchedulingIgnoredDuringExecution"
    )]
    pub required: Option<NodeSelector>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NodeSelector {
    #[serde(default)]
    pub node_selector_terms: Vec<NodeSelectorTerm>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NodeSelectorTerm {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<SelectorRequirement>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_fields: Vec<SelectorRequirement>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SelectorRequirement {
    pub key: String,
    pub operator: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct PodStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "podIP")]
    pub pod_ip: Option<Str>,
    #[serde(default, skip_serializing_if = "Vec::is_empty", rename = "podIPs")]
    pub pod_ips: Vec<PodIp>,
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "hostIP")]
    pub host_ip: Option<Str>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub container_statuses: Vec<ContainerStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Str>,
    /// Shared between kept pods whose conditions read the same (as the protobuf reader and a
    /// snapshot's load give them): the times that tell them apart are not kept.
    #[serde(default, skip_serializing_if = "<[super::Condition]>::is_empty")]
    pub conditions: Arc<[super::Condition]>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct PodIp {
    pub ip: Str,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct ContainerStatus {
    #[serde(default)]
    pub name: Str,
    #[serde(default)]
    pub ready: bool,
    #[serde(default)]
    pub restart_count: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<ContainerState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_state: Option<ContainerState>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct ContainerState {
    // Boxed: a container is in one state at a time, its last state often `{}`, and a detail
    // is 80 bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting: Option<Box<StateDetail>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running: Option<Box<StateDetail>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminated: Option<Box<StateDetail>>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct StateDetail {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Str>,
}

/// Namespaces whose pods netcheck reads in full; elsewhere only placement and IPs are kept.
pub const INFRA_NAMESPACES: &[&str] = &[
    "kube-system",
    "kube-flannel",
    "calico-system",
    "tigera-operator",
    "cilium",
    "kube-proxy",
    "antrea-system",
];

pub const MIRROR_ANNOTATION: &str = "kubernetes.io/config.mirror";

/// Whether netcheck reads a pod in full: in an infrastructure namespace, run by a DaemonSet
/// (its controller, or else its first owner), or a static pod's mirror (annotated, or owned
/// by its Node). From borrowed parts, so decoders can decide before building a [`Pod`].
pub fn is_infra<'a>(
    namespace: &str,
    owners: impl Iterator<Item = (&'a str, bool)> + Clone,
    mirror_annotation: bool,
) -> bool {
    let controller = owners.clone().find(|o| o.1).or(owners.clone().next());
    INFRA_NAMESPACES.contains(&namespace)
        || controller.is_some_and(|o| o.0 == "DaemonSet")
        || mirror_annotation
        || owners.clone().any(|o| o.0 == "Node")
}

impl Pod {
    pub fn name(&self) -> &str {
        &self.metadata.name
    }
    pub fn node(&self) -> Option<&str> {
        self.spec.node_name.as_deref()
    }
    pub fn is_mirror(&self) -> bool {
        self.metadata.annotations.contains_key(MIRROR_ANNOTATION)
            || self
                .metadata
                .owner_references
                .iter()
                .any(|o| o.kind == "Node")
    }
    pub fn controller(&self) -> Option<&OwnerRef> {
        let refs = &self.metadata.owner_references;
        refs.iter()
            .find(|o| o.controller == Some(true))
            .or_else(|| refs.first())
    }
    pub fn ips(&self) -> Vec<&str> {
        if !self.status.pod_ips.is_empty() {
            self.status.pod_ips.iter().map(|p| p.ip.as_str()).collect()
        } else {
            self.status.pod_ip.iter().map(Str::as_str).collect()
        }
    }
    pub fn is_infra(&self) -> bool {
        let m = &self.metadata;
        is_infra(
            m.ns(),
            m.owner_references
                .iter()
                .map(|o| (o.kind.as_str(), o.controller == Some(true))),
            m.annotations.contains_key(MIRROR_ANNOTATION),
        )
    }
    /// Drops what netcheck never reads from an ordinary workload pod, so that a cluster of
    /// 150,000 pods fits in a few tens of megabytes.
    /// Pod-level scheduling fields are dropped from every pod: placement is judged from the
    /// DaemonSet's template.
    pub fn prune(&mut self) {
        self.spec.node_selector.clear();
        self.spec.tolerations.clear();
        self.spec.affinity = None;
        if !self.is_infra() {
            self.reduce();
        }
        // Lists grow by doubling as they are read; thousands of pods keep them for good.
        if let Some(cs) = Arc::get_mut(&mut self.spec.containers) {
            for c in cs {
                c.env.shrink_to_fit();
                c.ports.shrink_to_fit();
            }
        }
        self.status.container_statuses.shrink_to_fit();
    }
    fn reduce(&mut self) {
        // What a WorkloadPod keeps stays: labels, declared ports, readiness.
        self.metadata.annotations.clear();
        self.metadata.owner_references.clear();
        self.status.host_ip = None;
        self.metadata.creation_timestamp = None;
        self.spec.containers = self
            .spec
            .containers
            .iter()
            .map(|c| Container {
                ports: c.ports.clone(),
                ..Container::default()
            })
            .collect();
        self.status.start_time = None;
    }
    /// Decodes one Pod as the API serves it (see [`PodEntry`]).
    pub fn decode(json: &str) -> serde_json::Result<PodEntry> {
        serde_json::from_str(json)
    }
    /// Pods grouped by node name, each group in list order: one pass instead of a scan per node.
    pub fn by_node<'a>(pods: impl IntoIterator<Item = &'a Pod>) -> FastMap<&'a str, Vec<&'a Pod>> {
        let mut m: FastMap<&str, Vec<&Pod>> = FastMap::default();
        for p in pods {
            if let Some(n) = p.node() {
                m.entry(n).or_default().push(p);
            }
        }
        m
    }
    /// Succeeded or Failed: it holds no address any more.
    pub fn finished(&self) -> bool {
        matches!(self.status.phase.as_deref(), Some("Succeeded" | "Failed"))
    }
    pub fn restarts(&self) -> u32 {
        self.status
            .container_statuses
            .iter()
            .map(|c| c.restart_count)
            .sum()
    }
    pub fn ready(&self) -> bool {
        !self.status.container_statuses.is_empty()
            && self.status.container_statuses.iter().all(|c| c.ready)
    }
}

/// A pod as read: kept in full, or reduced to a [`WorkloadPod`].
pub enum PodEntry {
    Infra(Box<Pod>),
    Workload(WorkloadPod),
}

/// An ordinary pod as netcheck keeps it: where it runs and its addresses. A fraction of a
/// [`Pod`]'s size, which matters at 150,000 pods.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadPod {
    pub namespace: Name,
    pub name: PodName,
    #[serde(default, skip_serializing_if = "str::is_empty")]
    pub node: Name,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub host_network: bool,
    /// Succeeded or Failed: its addresses may since have been reused.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub finished: bool,
    /// Addresses that do not parse are dropped, as the checks would ignore them.
    #[serde(default, skip_serializing_if = "<[IpAddr]>::is_empty")]
    pub ips: PodIps,
    /// What Service selectors match. Shared between the pods of one template (see [`Shapes`]).
    #[serde(default, skip_serializing_if = "Labels::is_empty")]
    pub labels: Labels,
    /// The ports its containers declare, for targetPort names. Shared like the labels.
    #[serde(default, skip_serializing_if = "Ports::is_empty")]
    pub ports: Ports,
    /// The pod's Ready condition.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub ready: bool,
    /// Why it is not Ready (see [`readiness`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_ready: Option<Name>,
    /// Being deleted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub terminating: bool,
}

fn yes() -> bool {
    true
}

pub(crate) fn is_true(b: &bool) -> bool {
    *b
}

/// A pod's addresses: nearly always one; two for dual-stack pods.
pub type PodIps = super::OneOrMany<IpAddr>;

impl From<&Pod> for WorkloadPod {
    fn from(p: &Pod) -> WorkloadPod {
        let (ready, not_ready) = readiness(&p.status);
        let ips = p
            .ips()
            .into_iter()
            .filter_map(crate::cidr::parse_ip)
            .collect();
        WorkloadPod {
            namespace: p.metadata.ns().into(),
            name: p.name().into(),
            node: p.node().unwrap_or("").into(),
            host_network: p.spec.host_network,
            finished: p.finished(),
            ips,
            labels: Labels::from_map(&p.metadata.labels),
            ports: Ports::of(&p.spec.containers),
            ready,
            not_ready: not_ready.map(Into::into),
            terminating: p.metadata.deletion_timestamp.is_some(),
        }
    }
}

/// Label sets, sorted by key, shared between the pods that carry the same: the pods of one
/// ReplicaSet differ in nothing a selector reads. Held by a thin pointer (8 bytes a pod, where
/// an `Arc` of a slice takes 16); every empty set is one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Labels(Arc<Box<[Label]>>);

/// A label's key and value.
type Label = (Box<str>, Box<str>);

static NO_LABELS: LazyLock<Labels> = LazyLock::new(|| Labels(Arc::default()));
static NO_PORTS: LazyLock<Ports> = LazyLock::new(|| Ports(Arc::default()));

impl Default for Labels {
    fn default() -> Labels {
        NO_LABELS.clone()
    }
}

impl Default for Ports {
    fn default() -> Ports {
        NO_PORTS.clone()
    }
}

impl Labels {
    pub fn from_map(m: &StrMap) -> Labels {
        // A StrMap is sorted and holds each key once.
        Labels::of(
            m.iter()
                .map(|(k, v)| (k.as_str().into(), v.as_str().into()))
                .collect(),
        )
    }
    fn of(pairs: Box<[Label]>) -> Labels {
        if pairs.is_empty() {
            return Labels::default();
        }
        Labels(Arc::new(pairs))
    }
    fn sorted(mut pairs: Vec<Label>) -> Labels {
        // A map holds a key once; the last of duplicates wins, as when decoding one.
        pairs.reverse();
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        pairs.dedup_by(|a, b| a.0 == b.0);
        Labels::of(pairs.into())
    }
    pub fn get(&self, key: &str) -> Option<&str> {
        let i = self.0.binary_search_by(|(k, _)| (**k).cmp(key)).ok()?;
        Some(&self.0[i].1)
    }
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (&**k, &**v))
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for Labels {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Labels {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Labels, D::Error> {
        Ok(Labels::from_map(&StrMap::deserialize(d)?))
    }
}

/// The ports of all of a pod's containers, shared like [`Labels`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ports(Arc<Box<[ContainerPort]>>);

impl Serialize for Ports {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.as_slice())
    }
}

impl<'de> Deserialize<'de> for Ports {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Ports, D::Error> {
        Ok(Vec::<ContainerPort>::deserialize(d)?.into_iter().collect())
    }
}

impl Ports {
    pub fn of(containers: &[Container]) -> Ports {
        containers
            .iter()
            .flat_map(|c| c.ports.iter().cloned())
            .collect()
    }
    pub fn as_slice(&self) -> &[ContainerPort] {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<K: AsRef<str>, V: AsRef<str>> FromIterator<(K, V)> for Labels {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(it: I) -> Labels {
        let entry = |(k, v): (K, V)| (k.as_ref().into(), v.as_ref().into());
        Labels::sorted(it.into_iter().map(entry).collect())
    }
}

impl std::ops::Deref for Ports {
    type Target = [ContainerPort];
    fn deref(&self) -> &[ContainerPort] {
        &self.0
    }
}

impl FromIterator<ContainerPort> for Ports {
    fn from_iter<I: IntoIterator<Item = ContainerPort>>(it: I) -> Ports {
        let ports: Box<[ContainerPort]> = it.into_iter().collect();
        if ports.is_empty() {
            return Ports::default();
        }
        Ports(Arc::new(ports))
    }
}

/// Shares equal label sets, port lists and names between pods as they are read, so that
/// 150,000 pods of a few thousand templates in a few hundred namespaces hold a few thousand of
/// each.
#[derive(Default)]
pub struct Shapes {
    labels: Interner<Labels>,
    ports: Interner<Ports>,
    names: Interner<Name>,
}

impl Shapes {
    /// Values a reader already shares (the protobuf reader keeps one copy per decoding
    /// thread) are kept as they are: looking each up again cost a cache miss a field (perf,
    /// issue #20) to save a copy per thread.
    pub fn share(&mut self, w: &mut WorkloadPod) {
        fn fresh<T: Shared>(v: &T) -> bool {
            v.holders() == 1
        }
        if fresh(&w.labels) {
            self.labels.share(&mut w.labels);
        }
        if fresh(&w.ports) {
            self.ports.share(&mut w.ports);
        }
        if fresh(&w.namespace) {
            self.names.share(&mut w.namespace);
        }
        if fresh(&w.node) {
            self.names.share(&mut w.node);
        }
    }
    /// Endpoints read from JSON: node names and kinds shared (the protobuf reader shares them
    /// as it reads).
    pub fn share_endpoints(&mut self, s: &mut super::EndpointSlice) {
        for e in &mut s.endpoints {
            if let Some(n) = &mut e.node_name {
                self.names.share(n);
            }
            if let Some(t) = &mut e.target_ref {
                self.names.share(&mut t.kind);
                if let Some(ns) = &mut t.namespace {
                    self.names.share(ns);
                }
            }
        }
    }
}

/// A value behind an `Arc`: where it lives, and how many hold it.
pub trait Shared: Clone + Eq + std::hash::Hash {
    fn address(&self) -> usize;
    fn holders(&self) -> usize;
}

impl Shared for Name {
    fn address(&self) -> usize {
        Name::address(self)
    }
    fn holders(&self) -> usize {
        Name::holders(self)
    }
}

impl Shared for Labels {
    fn address(&self) -> usize {
        Arc::as_ptr(&self.0) as *const u8 as usize
    }
    fn holders(&self) -> usize {
        Arc::strong_count(&self.0)
    }
}

impl Shared for Ports {
    fn address(&self) -> usize {
        Arc::as_ptr(&self.0) as *const u8 as usize
    }
    fn holders(&self) -> usize {
        Arc::strong_count(&self.0)
    }
}

struct Interner<T> {
    /// Each value once.
    values: FastSet<T>,
}

impl<T> Default for Interner<T> {
    fn default() -> Self {
        Interner {
            values: FastSet::default(),
        }
    }
}

impl<T: Clone + Eq + std::hash::Hash> Interner<T> {
    fn share(&mut self, v: &mut T) {
        match self.values.get(v) {
            Some(shared) => *v = shared.clone(),
            None => {
                self.values.insert(v.clone());
            }
        }
    }
}

/// Whether a pod is Ready and, if not, why, as `kubectl describe pod` would lead a person
/// there: the scheduler's message for an unscheduled pod, a container's waiting reason
/// (CrashLoopBackOff, ImagePullBackOff) with its restarts and last exit, else the Ready
/// condition's message (a failing readiness probe reads "containers with unready status").
pub fn readiness(s: &PodStatus) -> (bool, Option<String>) {
    let cond = |t: &str| s.conditions.iter().find(|c| c.kind == t);
    let ready = match cond("Ready") {
        Some(c) => c.status == "True",
        None => {
            s.phase.as_deref() == Some("Running")
                && !s.container_statuses.is_empty()
                && s.container_statuses.iter().all(|c| c.ready)
        }
    };
    if ready {
        return (true, None);
    }
    let phase = s.phase.as_deref().unwrap_or("Unknown");
    let text = |r: &Option<Str>| r.as_deref().unwrap_or_default().to_string();
    if let Some(c) = cond("PodScheduled").filter(|c| c.status == "False") {
        let why = c.message.clone().or(c.reason.clone()).unwrap_or_default();
        return (false, Some(format!("{phase}, not scheduled: {why}")));
    }
    let waiting = s.container_statuses.iter().find_map(|c| {
        let w = c.state.as_ref()?.waiting.as_ref()?;
        Some((c, w))
    });
    if let Some((c, w)) = waiting {
        let last = c
            .last_state
            .as_ref()
            .and_then(|l| l.terminated.as_ref())
            .map(|t| {
                format!(
                    ", last terminated: {} exit {}",
                    text(&t.reason),
                    t.exit_code.unwrap_or(0)
                )
            })
            .unwrap_or_default();
        let msg = w
            .message
            .as_ref()
            .map(|m| format!(": {m}"))
            .unwrap_or_default();
        return (
            false,
            Some(format!(
                "container {} {}{msg} (restarts {}{last})",
                c.name,
                text(&w.reason),
                c.restart_count
            )),
        );
    }
    match cond("Ready") {
        Some(c) if c.message.is_some() || c.reason.is_some() => (
            false,
            Some(format!("{}: {}", text(&c.reason), text(&c.message))),
        ),
        _ => (false, Some(format!("phase {phase}, not ready"))),
    }
}

impl WorkloadPod {
    /// Back to the API's shape, for the test API server.
    pub fn to_pod(&self) -> Pod {
        let ips: Vec<PodIp> = self
            .ips
            .iter()
            .map(|ip| PodIp {
                ip: ip.to_string().into(),
            })
            .collect();
        let cond = |kind: &str, ok: bool, why: Option<&str>| super::Condition {
            kind: kind.into(),
            status: if ok { "True" } else { "False" }.into(),
            reason: (!ok).then(|| "NotReady".into()),
            message: why.map(Into::into),
        };
        Pod {
            metadata: Meta {
                name: self.name.to_string().into(),
                namespace: Some((*self.namespace).into()),
                labels: self
                    .labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                deletion_timestamp: self.terminating.then(|| "2026-01-01T00:00:00Z".into()),
                ..Meta::default()
            },
            spec: PodSpec {
                node_name: (!self.node.is_empty()).then(|| (*self.node).into()),
                host_network: self.host_network,
                containers: [Container {
                    name: "main".into(),
                    ports: self.ports.as_slice().to_vec(),
                    ..Container::default()
                }]
                .into(),
                ..PodSpec::default()
            },
            status: PodStatus {
                phase: Some(
                    if self.finished {
                        "Succeeded"
                    } else {
                        "Running"
                    }
                    .into(),
                ),
                pod_ip: ips.first().map(|p| p.ip.clone()),
                pod_ips: ips,
                conditions: [cond("Ready", self.ready, self.not_ready.as_deref())].into(),
                ..PodStatus::default()
            },
        }
    }
}

/// A pod's address, as the address checks see every pod alike.
pub struct PodAddress<'a> {
    pub namespace: &'a str,
    pub name: super::PodRef<'a>,
    pub finished: bool,
    pub ip: std::net::IpAddr,
}

/// Decoded in one pass: `metadata`, which the API server sends ahead of `spec` and `status`,
/// decides whether the rest is read in full or only for placement and addresses. (Should
/// `metadata` come last, spec and status are read in full and reduced afterwards.)
impl<'de> Deserialize<'de> for PodEntry {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<PodEntry, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = PodEntry;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a Pod")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<PodEntry, A::Error> {
                let mut pod = Pod::default();
                let mut infra = None;
                while let Some(k) = m.next_key::<std::borrow::Cow<'de, str>>()? {
                    match (&*k, infra) {
                        ("metadata", _) => {
                            pod.metadata = m.next_value()?;
                            infra = Some(pod.is_infra());
                        }
                        ("spec", Some(false)) => {
                            let h: PodSpecHead = m.next_value()?;
                            pod.spec.node_name = h.node_name;
                            pod.spec.host_network = h.host_network;
                            pod.spec.containers = h
                                .containers
                                .into_iter()
                                .map(|c| Container {
                                    ports: c.ports,
                                    ..Container::default()
                                })
                                .collect();
                        }
                        ("status", Some(false)) => {
                            let h: PodStatusHead = m.next_value()?;
                            pod.status.phase = h.phase;
                            pod.status.pod_ip = h.pod_ip;
                            pod.status.pod_ips = h.pod_ips;
                            pod.status.conditions = h.conditions.into();
                            pod.status.container_statuses = h.container_statuses;
                        }
                        ("spec", _) => pod.spec = m.next_value()?,
                        ("status", _) => pod.status = m.next_value()?,
                        _ => {
                            m.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(if pod.is_infra() {
                    pod.prune();
                    PodEntry::Infra(Box::new(pod))
                } else {
                    PodEntry::Workload(WorkloadPod::from(&pod))
                })
            }
        }
        d.deserialize_map(V)
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct PodSpecHead {
    #[serde(default)]
    node_name: Option<Str>,
    #[serde(default)]
    host_network: bool,
    #[serde(default)]
    containers: Vec<PortsHead>,
}

#[derive(Deserialize, Default)]
struct PortsHead {
    #[serde(default)]
    ports: Vec<ContainerPort>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct PodStatusHead {
    #[serde(default)]
    phase: Option<Str>,
    #[serde(default, rename = "podIP")]
    pod_ip: Option<Str>,
    #[serde(default, rename = "podIPs")]
    pod_ips: Vec<PodIp>,
    #[serde(default)]
    conditions: Vec<super::Condition>,
    #[serde(default)]
    container_statuses: Vec<ContainerStatus>,
}

pub(super) fn pruned_pods<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Pod>, D::Error> {
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = Vec<Pod>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a list of pods")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut s: A) -> Result<Vec<Pod>, A::Error> {
            let mut v = Vec::new();
            // Healthy pods repeat their conditions (shared live by the protobuf reader).
            // Containers are not shared here: freeing each duplicate's strings cost 0.04-0.13 s
            // of CPU (interleaved offline reports at 5,000 nodes) for 4 MB more.
            let mut conditions = Interner::default();
            while let Some(mut p) = s.next_element::<Pod>()? {
                p.prune();
                conditions.share(&mut p.status.conditions);
                super::push_bounded(&mut v, p);
            }
            Ok(v)
        }
    }
    d.deserialize_seq(V)
}

/// Workload pods of a snapshot, their label sets, ports and names shared as each is read: held
/// unshared until the whole list was in, they made the offline load's peak (221 MB at 5,000
/// nodes, against 177 MB live).
pub(super) fn shared_workload_pods<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<WorkloadPod>, D::Error> {
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = Vec<WorkloadPod>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a list of workload pods")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut s: A,
        ) -> Result<Vec<WorkloadPod>, A::Error> {
            let (mut v, mut shapes) = (Vec::new(), Shapes::default());
            while let Some(mut w) = s.next_element::<WorkloadPod>()? {
                shapes.share(&mut w);
                super::push_bounded(&mut v, w);
            }
            Ok(v)
        }
    }
    d.deserialize_seq(V)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_ips_inline_and_written_as_a_list() {
        assert_eq!(
            std::mem::size_of::<PodIps>(),
            24,
            "no larger than the Vec it replaced"
        );
        let one: PodIps = ["10.244.1.7".parse().unwrap()].into_iter().collect();
        assert!(matches!(one, PodIps::One(_)));
        let two: PodIps = ["10.244.1.7", "fd00::7"]
            .map(|a| a.parse().unwrap())
            .into_iter()
            .collect();
        assert_eq!(two.len(), 2);
        for (ips, json) in [
            (one, r#"["10.244.1.7"]"#),
            (two, r#"["10.244.1.7","fd00::7"]"#),
            (PodIps::default(), "[]"),
        ] {
            assert_eq!(serde_json::to_string(&ips).unwrap(), json);
            assert_eq!(serde_json::from_str::<PodIps>(json).unwrap(), ips);
        }
    }
}
