//! NetworkPolicy reachability (#17): which pods policies isolate, whether one pod may reach
//! another (or an address outside the cluster), and why; with AdminNetworkPolicies before
//! and the BaselineAdminNetworkPolicy after, as the policy API orders them.
//!
//! Semantics follow the NetworkPolicy API reference (networking.k8s.io/v1) and the
//! AdminNetworkPolicy API reference (policy.networking.k8s.io/v1alpha1): a pod is isolated
//! for a direction once any policy selects it for that direction; isolated traffic is allowed
//! only if some rule of some selecting policy allows it (policies add up); hostNetwork pods
//! are never selected. Where the API leaves a choice to the implementation (ipBlock against
//! pod addresses), netcheck takes the common one: ipBlock matches pod addresses too.

use super::cni;
use crate::model::*;
use crate::report::*;
use ipnet::IpNet;
use serde::Deserialize;
use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

/// A pod as policies see it, from either of the model's pod forms.
pub struct PodView<'a> {
    pub ns: &'a str,
    pub name: PodRef<'a>,
    labels: LabelSrc<'a>,
    /// Parsed for full pods, borrowed from reduced ones (most of a big cluster's).
    pub ips: std::borrow::Cow<'a, [IpAddr]>,
    pub host_network: bool,
    pub ports: &'a [ContainerPort],
}

enum LabelSrc<'a> {
    Map(&'a StrMap),
    Shared(&'a Labels),
}

impl<'a> PodView<'a> {
    pub fn label(&self, k: &str) -> Option<&'a str> {
        match self.labels {
            LabelSrc::Map(m) => m.get(k).map(|v| v.as_str()),
            LabelSrc::Shared(l) => l.get(k),
        }
    }
    pub fn labels(&self) -> Vec<(&'a str, &'a str)> {
        match self.labels {
            LabelSrc::Map(m) => m.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect(),
            LabelSrc::Shared(l) => l.iter().collect(),
        }
    }
    pub fn id(&self) -> String {
        format!("{}/{}", self.ns, self.name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Ingress,
    Egress,
}

impl Dir {
    fn name(self) -> &'static str {
        match self {
            Dir::Ingress => "ingress",
            Dir::Egress => "egress",
        }
    }
}

// ---------- the policy API's objects, read from their JSON ----------

#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
struct AdminSpec {
    #[serde(default)]
    priority: Option<i64>,
    subject: AdminSubject,
    #[serde(default)]
    ingress: Vec<AdminRule>,
    #[serde(default)]
    egress: Vec<AdminRule>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
struct AdminSubject {
    #[serde(default)]
    namespaces: Option<LabelSelector>,
    #[serde(default)]
    pods: Option<AdminPods>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
struct AdminPods {
    #[serde(default)]
    namespace_selector: LabelSelector,
    #[serde(default)]
    pod_selector: LabelSelector,
}

#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
struct AdminRule {
    #[serde(default)]
    name: String,
    action: String,
    /// `from` in ingress rules, `to` in egress rules.
    #[serde(default, alias = "to")]
    from: Vec<AdminPeer>,
    #[serde(default)]
    ports: Vec<AdminPort>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
struct AdminPeer {
    #[serde(default)]
    namespaces: Option<LabelSelector>,
    #[serde(default)]
    pods: Option<AdminPods>,
    #[serde(default)]
    networks: Option<Vec<String>>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
struct AdminPort {
    #[serde(default)]
    port_number: Option<AdminPortNumber>,
    #[serde(default)]
    named_port: Option<String>,
    #[serde(default)]
    port_range: Option<AdminPortRange>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
struct AdminPortNumber {
    #[serde(default)]
    protocol: Option<String>,
    port: i32,
}

#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
struct AdminPortRange {
    #[serde(default)]
    protocol: Option<String>,
    start: i32,
    end: i32,
}

struct Admin<'a> {
    name: &'a str,
    spec: AdminSpec,
}

// ---------- the index every question is answered from ----------

pub struct Index<'a> {
    pub pods: Vec<PodView<'a>>,
    /// Namespace labels, when the namespaces were read.
    ns_labels: Option<HashMap<&'a str, &'a StrMap>>,
    policies: Option<&'a [NetworkPolicy]>,
    by_ns: HashMap<&'a str, Vec<&'a NetworkPolicy>>,
    /// By priority, then name (equal priorities are the implementation's choice).
    admins: Vec<Admin<'a>>,
    baseline: Option<Admin<'a>>,
    pub admin_summary: Vec<AdminPolicy>,
    /// Why answers may be incomplete.
    pub unknown: Vec<String>,
    /// Reads whose absence makes a side's verdict unknown.
    policies_unread: Option<String>,
    admins_unread: Option<String>,
}

impl<'a> Index<'a> {
    pub fn new(c: &'a Cluster) -> Index<'a> {
        Self::build(c, true)
    }

    /// `with_pods` false: an index that knows no pod, for answers that read none.
    fn build(c: &'a Cluster, with_pods: bool) -> Index<'a> {
        let full = c.pods.iter().take(if with_pods { usize::MAX } else { 0 });
        let full = full.map(|p| PodView {
            ns: p.metadata.ns(),
            name: p.name().into(),
            labels: LabelSrc::Map(&p.metadata.labels),
            ips: p
                .ips()
                .into_iter()
                .filter_map(crate::cidr::parse_ip)
                .collect::<Vec<_>>()
                .into(),
            host_network: p.spec.host_network,
            ports: &[],
        });
        let mut pods: Vec<PodView> = full.collect();
        // Full pods keep their containers; their declared ports live there.
        for (v, p) in pods.iter_mut().zip(&c.pods) {
            v.ports = p
                .spec
                .containers
                .first()
                .map(|ct| ct.ports.as_slice())
                .unwrap_or(&[]);
        }
        let work = c
            .workload_pods
            .iter()
            .take(if with_pods { usize::MAX } else { 0 });
        pods.extend(work.map(|w| PodView {
            ns: &w.namespace,
            name: (&w.name).into(),
            labels: LabelSrc::Shared(&w.labels),
            ips: (&*w.ips).into(),
            host_network: w.host_network,
            ports: w.ports.as_slice(),
        }));
        let mut unknown = Vec::new();
        let why = |what: &str, label: &str| -> String {
            match c.error_for(what) {
                Some(e) => format!("{label} could not be read: {}", e.reason),
                None => format!("{label} were not read (a snapshot taken before netcheck read them, or a support bundle)"),
            }
        };
        let policies_unread = c
            .network_policies
            .is_none()
            .then(|| why(what::NETWORKPOLICIES, "NetworkPolicies"));
        unknown.extend(policies_unread.clone());
        if c.namespaces.is_none() {
            unknown.push(format!(
                "{}: namespaceSelectors other than by {NAMESPACE_NAME_LABEL} are unknown",
                why(what::NAMESPACES, "namespaces")
            ));
        }
        if c.error_for(what::PODS).is_some() {
            unknown.push(why(what::PODS, "pods"));
        }
        let mut admins_unread = None;
        for t in [ADMIN_NETWORK_POLICY, BASELINE_ADMIN_NETWORK_POLICY] {
            if let Some(e) = c.error_for(&what::object(&t, None)) {
                let w = format!("{}s could not be read: {}", t.kind, e.reason);
                unknown.push(w.clone());
                admins_unread = Some(w);
            }
        }
        let ns_labels = c.namespaces.as_ref().map(|v| {
            v.iter()
                .map(|n| (n.metadata.name.as_str(), &n.metadata.labels))
                .collect()
        });
        let mut by_ns: HashMap<&str, Vec<&NetworkPolicy>> = HashMap::new();
        for p in c.network_policies.iter().flatten() {
            by_ns.entry(p.metadata.ns()).or_default().push(p);
        }
        let mut admins = Vec::new();
        let mut baseline = None;
        let mut admin_summary = Vec::new();
        for (t, kind) in [
            (&ADMIN_NETWORK_POLICY, "AdminNetworkPolicy"),
            (&BASELINE_ADMIN_NETWORK_POLICY, "BaselineAdminNetworkPolicy"),
        ] {
            for o in c.objects_of(t) {
                let parsed = AdminSpec::deserialize(&o.spec);
                let mut row = AdminPolicy {
                    kind: kind.into(),
                    name: o.metadata.name.to_string(),
                    priority: None,
                    pods: 0,
                    error: None,
                };
                match parsed {
                    Ok(spec) => {
                        row.priority = spec.priority;
                        let a = Admin {
                            name: &o.metadata.name,
                            spec,
                        };
                        if kind == "AdminNetworkPolicy" {
                            admins.push(a);
                        // The API admits one baseline, named "default".
                        } else if o.metadata.name == "default" {
                            baseline = Some(a);
                        } else {
                            row.error = Some(
                                "a BaselineAdminNetworkPolicy must be named \"default\"".into(),
                            );
                        }
                    }
                    Err(e) => row.error = Some(format!("not understood: {e}")),
                }
                admin_summary.push(row);
            }
        }
        admins.sort_by(|a, b| {
            (a.spec.priority.unwrap_or(0), a.name).cmp(&(b.spec.priority.unwrap_or(0), b.name))
        });
        let mut ix = Index {
            pods,
            ns_labels,
            policies: c.network_policies.as_deref(),
            by_ns,
            admins,
            baseline,
            admin_summary,
            unknown,
            policies_unread,
            admins_unread,
        };
        let counts: Vec<usize> = ix
            .admin_summary
            .iter()
            .map(|row| {
                let a = if row.kind == "AdminNetworkPolicy" {
                    ix.admins.iter().find(|a| a.name == row.name)
                } else {
                    ix.baseline.as_ref().filter(|a| a.name == row.name)
                };
                a.map(|a| {
                    let flag = Cell::new(false);
                    ix.pods
                        .iter()
                        .filter(|p| ix.admin_subject(a, p, &flag))
                        .count()
                })
                .unwrap_or(0)
            })
            .collect();
        for (row, n) in ix.admin_summary.iter_mut().zip(counts) {
            row.pods = n;
        }
        ix
    }

    /// A namespace's label, from the namespaces read; not read, the label is unknown.
    fn ns_label(&self, ns: &str, key: &str, unknown: &Cell<bool>) -> Option<&'a str> {
        match &self.ns_labels {
            Some(m) => m.get(ns).and_then(|l| l.get(key)).map(|v| v.as_str()),
            None => {
                unknown.set(true);
                None
            }
        }
    }

    /// Every namespace carries its name as a label (the API server sets it since 1.21), so a
    /// selector by name is answered even when the namespaces could not be read.
    fn ns_matches<'s>(&'s self, sel: &LabelSelector, ns: &'s str, unknown: &Cell<bool>) -> bool {
        sel.matches(|k| {
            if k == NAMESPACE_NAME_LABEL {
                Some(ns)
            } else {
                self.ns_label(ns, k, unknown)
            }
        })
    }

    fn admin_subject(&self, a: &Admin, p: &PodView, unknown: &Cell<bool>) -> bool {
        if p.host_network {
            return false;
        }
        match (&a.spec.subject.namespaces, &a.spec.subject.pods) {
            (Some(ns), _) => self.ns_matches(ns, p.ns, unknown),
            (None, Some(pods)) => {
                self.ns_matches(&pods.namespace_selector, p.ns, unknown)
                    && pods.pod_selector.matches(|k| p.label(k))
            }
            (None, None) => false,
        }
    }
}

/// What is on the other end of one direction.
#[derive(Clone, Copy)]
pub enum Peer<'p, 'a> {
    Pod(&'p PodView<'a>),
    Addr(IpNet),
}

fn parse_net(s: &str) -> Option<IpNet> {
    s.parse::<IpNet>()
        .ok()
        .or_else(|| s.parse::<IpAddr>().ok().map(IpNet::from))
}

/// Whether every address of `net` is in the block: inside its cidr and outside each except.
fn block_covers(b: &IpBlock, net: &IpNet) -> bool {
    let Some(cidr) = parse_net(&b.cidr) else {
        return false;
    };
    cidr.contains(net)
        && !b
            .except
            .iter()
            .filter_map(|e| parse_net(e))
            .any(|e| e.contains(net) || net.contains(&e))
}

fn networks_cover(nets: &[String], net: &IpNet) -> bool {
    nets.iter()
        .filter_map(|n| parse_net(n))
        .any(|n| n.contains(net))
}

fn pod_port_named<'a>(p: Option<&PodView<'a>>, name: &str, q: &PortQuery, proto: &str) -> bool {
    p.is_some_and(|p| {
        p.ports.iter().any(|cp| {
            cp.name.as_deref() == Some(name)
                && cp.container_port == i32::from(q.port)
                && cp.protocol() == proto
        })
    })
}

/// One NetworkPolicy port against the question's port; named ports are the destination
/// pod's. Without a port asked, any port entry matches (the answer names the ports).
fn np_port(pp: &PolicyPort, q: Option<&PortQuery>, dst: Option<&PodView>) -> bool {
    let Some(q) = q else { return true };
    if pp.protocol() != q.protocol {
        return false;
    }
    match &pp.port {
        None => true,
        Some(IntOrString::Int(p)) => {
            let end = pp.end_port.unwrap_or(*p);
            (*p..=end).contains(&i32::from(q.port))
        }
        Some(IntOrString::Str(name)) => pod_port_named(dst, name, q, pp.protocol()),
    }
}

fn admin_port(ap: &AdminPort, q: &PortQuery, dst: Option<&PodView>) -> bool {
    let proto = |p: &Option<String>| p.clone().unwrap_or_else(|| "TCP".into());
    if let Some(n) = &ap.port_number {
        return proto(&n.protocol) == q.protocol && n.port == i32::from(q.port);
    }
    if let Some(r) = &ap.port_range {
        return proto(&r.protocol) == q.protocol && (r.start..=r.end).contains(&i32::from(q.port));
    }
    if let Some(name) = &ap.named_port {
        return dst.is_some_and(|d| {
            d.ports.iter().any(|cp| {
                cp.name.as_deref() == Some(name.as_str())
                    && cp.container_port == i32::from(q.port)
                    && cp.protocol() == q.protocol
            })
        });
    }
    false
}

fn describe_ports(ports: &[PolicyPort]) -> String {
    if ports.is_empty() {
        return "any port".into();
    }
    ports
        .iter()
        .map(|p| match (&p.port, p.end_port) {
            (None, _) => format!("{} (all ports)", p.protocol()),
            (Some(IntOrString::Int(a)), Some(b)) => format!("{}/{a}-{b}", p.protocol()),
            (Some(port), None) => format!("{}/{port}", p.protocol()),
            (Some(port), Some(_)) => format!("{}/{port}", p.protocol()),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn describe_peer(p: &PolicyPeer) -> String {
    let mut parts = Vec::new();
    if let Some(s) = &p.namespace_selector {
        parts.push(format!("namespaces {}", s.describe()));
    }
    if let Some(s) = &p.pod_selector {
        parts.push(format!("pods {}", s.describe()));
    }
    if let Some(b) = &p.ip_block {
        let ex = if b.except.is_empty() {
            String::new()
        } else {
            format!(" except {}", b.except.join(","))
        };
        parts.push(format!("ipBlock {}{ex}", b.cidr));
    }
    parts.join(" and ")
}

fn policy_id(p: &NetworkPolicy) -> String {
    format!("{}/{}", p.metadata.ns(), p.metadata.name)
}

impl<'a> Index<'a> {
    /// Whether a NetworkPolicy peer matches the pod or addresses on the other end.
    fn np_peer(&self, peer: &PolicyPeer, pns: &str, other: Peer, unknown: &Cell<bool>) -> bool {
        match other {
            Peer::Addr(net) => peer
                .ip_block
                .as_ref()
                .is_some_and(|b| block_covers(b, &net)),
            Peer::Pod(p) => {
                if let Some(b) = &peer.ip_block {
                    return p.ips.iter().any(|ip| block_covers(b, &IpNet::from(*ip)));
                }
                // A hostNetwork pod's traffic carries its node's address: selectors do not
                // see it as a pod.
                if p.host_network {
                    return false;
                }
                if peer.pod_selector.is_none() && peer.namespace_selector.is_none() {
                    return false;
                }
                let ns_ok = match &peer.namespace_selector {
                    None => p.ns == pns,
                    Some(s) => self.ns_matches(s, p.ns, unknown),
                };
                ns_ok
                    && peer
                        .pod_selector
                        .as_ref()
                        .is_none_or(|s| s.matches(|k| p.label(k)))
            }
        }
    }

    fn admin_peer(&self, peer: &AdminPeer, other: Peer, unknown: &Cell<bool>) -> bool {
        match other {
            Peer::Addr(net) => peer
                .networks
                .as_deref()
                .is_some_and(|n| networks_cover(n, &net)),
            Peer::Pod(p) => {
                if let Some(n) = &peer.networks {
                    return p.ips.iter().any(|ip| networks_cover(n, &IpNet::from(*ip)));
                }
                if p.host_network {
                    return false;
                }
                match (&peer.namespaces, &peer.pods) {
                    (Some(ns), _) => self.ns_matches(ns, p.ns, unknown),
                    (None, Some(pods)) => {
                        self.ns_matches(&pods.namespace_selector, p.ns, unknown)
                            && pods.pod_selector.matches(|k| p.label(k))
                    }
                    (None, None) => false,
                }
            }
        }
    }

    /// The policies of the pod's namespace that select it for `dir`.
    pub fn selecting(&self, p: &PodView, dir: Dir) -> Vec<&'a NetworkPolicy> {
        if p.host_network {
            return vec![];
        }
        self.by_ns
            .get(p.ns)
            .into_iter()
            .flatten()
            .copied()
            .filter(|np| {
                let (i, e) = np.spec.affects();
                (if dir == Dir::Ingress { i } else { e })
                    && np.spec.pod_selector.matches(|k| p.label(k))
            })
            .collect()
    }

    /// One direction of one flow: `subject` is the pod whose policies apply (the receiver
    /// for ingress, the sender for egress); `other` is the far end.
    pub fn side(
        &self,
        dir: Dir,
        subject: &PodView,
        other: Peer,
        q: Option<&PortQuery>,
    ) -> SideVerdict {
        let verdict = |v, by: &str, selected_by: Vec<String>, reasons: Vec<String>| SideVerdict {
            verdict: v,
            decided_by: by.into(),
            selected_by,
            reasons,
        };
        if subject.host_network {
            return verdict(
                Verdict::Allowed,
                "hostnetwork",
                vec![],
                vec![format!(
                    "{} is in the host network: policies do not select it",
                    subject.id()
                )],
            );
        }
        let unknown = Cell::new(false);
        // The destination pod names the ports.
        let dst = match (dir, other) {
            (Dir::Ingress, _) => Some(subject),
            (Dir::Egress, Peer::Pod(p)) => Some(p),
            (Dir::Egress, Peer::Addr(_)) => None,
        };
        let mut passed = Vec::new();
        // Tier 1: AdminNetworkPolicies, by priority; the first rule that matches decides.
        'admins: for a in &self.admins {
            if !self.admin_subject(a, subject, &unknown) {
                continue;
            }
            let rules = if dir == Dir::Ingress {
                &a.spec.ingress
            } else {
                &a.spec.egress
            };
            for (i, r) in rules.iter().enumerate() {
                if !r.from.iter().any(|p| self.admin_peer(p, other, &unknown)) {
                    continue;
                }
                let ports_ok = match q {
                    _ if r.ports.is_empty() => true,
                    Some(q) => r.ports.iter().any(|p| admin_port(p, q, dst)),
                    // Without a port, a port-limited rule allows some ports but denies or
                    // passes only some: it decides only when it allows.
                    None => r.action == "Allow",
                };
                if !ports_ok {
                    continue;
                }
                let what = format!(
                    "AdminNetworkPolicy {} (priority {}) {}[{i}] {:?}: {}",
                    a.name,
                    a.spec.priority.unwrap_or(0),
                    dir.name(),
                    r.name,
                    r.action
                );
                match r.action.as_str() {
                    "Allow" => return verdict(Verdict::Allowed, "admin", vec![], vec![what]),
                    "Deny" => return verdict(Verdict::Denied, "admin", vec![], vec![what]),
                    "Pass" => {
                        passed.push(format!("{what} (on to NetworkPolicies)"));
                        break 'admins;
                    }
                    _ => continue,
                }
            }
        }
        if let Some(w) = &self.admins_unread {
            return verdict(Verdict::Unknown, "unknown", vec![], vec![w.clone()]);
        }
        // Tier 2: NetworkPolicies of the pod's namespace.
        let Some(_) = self.policies else {
            let w = self.policies_unread.clone().unwrap_or_default();
            return verdict(Verdict::Unknown, "unknown", vec![], vec![w]);
        };
        let selecting = self.selecting(subject, dir);
        if !selecting.is_empty() {
            let ids: Vec<String> = selecting.iter().map(|p| policy_id(p)).collect();
            let mut reasons = passed;
            for np in &selecting {
                let rules: Vec<(&[PolicyPeer], &[PolicyPort])> = if dir == Dir::Ingress {
                    np.spec
                        .ingress
                        .iter()
                        .map(|r| (r.from.as_slice(), r.ports.as_slice()))
                        .collect()
                } else {
                    np.spec
                        .egress
                        .iter()
                        .map(|r| (r.to.as_slice(), r.ports.as_slice()))
                        .collect()
                };
                for (i, (peers, ports)) in rules.iter().enumerate() {
                    let peer_at = if peers.is_empty() {
                        Some(None)
                    } else {
                        peers
                            .iter()
                            .position(|p| self.np_peer(p, np.metadata.ns(), other, &unknown))
                            .map(Some)
                    };
                    let Some(peer_at) = peer_at else { continue };
                    if !(ports.is_empty() || ports.iter().any(|p| np_port(p, q, dst))) {
                        continue;
                    }
                    let field = if dir == Dir::Ingress { "from" } else { "to" };
                    let peer = match peer_at {
                        None => format!(
                            "every {}",
                            if dir == Dir::Ingress {
                                "source"
                            } else {
                                "destination"
                            }
                        ),
                        Some(j) => format!("{field}[{j}] ({})", describe_peer(&peers[j])),
                    };
                    reasons.push(format!(
                        "NetworkPolicy {} {}[{i}] allows {peer} on {}",
                        policy_id(np),
                        dir.name(),
                        describe_ports(ports)
                    ));
                    return verdict(
                        if unknown.get() {
                            Verdict::Unknown
                        } else {
                            Verdict::Allowed
                        },
                        "networkpolicy",
                        ids,
                        reasons,
                    );
                }
            }
            reasons.push(format!(
                "default deny: {} is isolated for {} by {} and no rule allows this {}",
                subject.id(),
                dir.name(),
                ids.join(", "),
                if dir == Dir::Ingress {
                    "source"
                } else {
                    "destination"
                }
            ));
            if unknown.get() {
                reasons.push(
                    "a namespaceSelector needs the namespaces' labels, which were not read".into(),
                );
            }
            let v = if unknown.get() {
                Verdict::Unknown
            } else {
                Verdict::Denied
            };
            return verdict(v, "networkpolicy", ids, reasons);
        }
        // Tier 3: the BaselineAdminNetworkPolicy; nothing matching there allows.
        let mut reasons = passed;
        if let Some(b) = self
            .baseline
            .as_ref()
            .filter(|b| self.admin_subject(b, subject, &unknown))
        {
            let rules = if dir == Dir::Ingress {
                &b.spec.ingress
            } else {
                &b.spec.egress
            };
            for (i, r) in rules.iter().enumerate() {
                let ports_ok = match q {
                    _ if r.ports.is_empty() => true,
                    Some(q) => r.ports.iter().any(|p| admin_port(p, q, dst)),
                    None => r.action == "Allow",
                };
                if ports_ok && r.from.iter().any(|p| self.admin_peer(p, other, &unknown)) {
                    reasons.push(format!(
                        "no NetworkPolicy selects {} for {}; BaselineAdminNetworkPolicy default {}[{i}] {:?}: {}",
                        subject.id(),
                        dir.name(),
                        dir.name(),
                        r.name,
                        r.action
                    ));
                    let v = match (unknown.get(), r.action.as_str()) {
                        (true, _) => Verdict::Unknown,
                        (false, "Deny") => Verdict::Denied,
                        _ => Verdict::Allowed,
                    };
                    return verdict(v, "baseline", vec![], reasons);
                }
            }
        }
        reasons.push(format!(
            "no policy selects {} for {}: not isolated, all {} allowed",
            subject.id(),
            dir.name(),
            dir.name()
        ));
        let v = if unknown.get() {
            Verdict::Unknown
        } else {
            Verdict::Allowed
        };
        verdict(v, "none", vec![], reasons)
    }
}

// ---------- can-reach ----------

/// A side of the question, resolved against the cluster.
pub enum Resolved {
    Pods { desc: String, pods: Vec<usize> },
    Addr(IpNet),
}

/// `ns/name`, `ns/k=v,k2=v2`, `svc/ns/name`, or an address or CIDR.
pub fn parse_target(s: &str) -> Result<Target, String> {
    let bad = |why: &str| {
        Err(format!(
            "'{s}': {why}; expected NAMESPACE/POD, NAMESPACE/LABEL=VALUE[,LABEL=VALUE...], svc/NAMESPACE/SERVICE, or an IP address or CIDR outside the cluster"
        ))
    };
    if let Ok(net) = s.parse::<IpNet>() {
        return Ok(Target::Cidr(net));
    }
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(Target::Cidr(IpNet::from(ip)));
    }
    if let Some(rest) = s.strip_prefix("svc/") {
        if let Some((ns, name)) = rest.split_once('/') {
            if !ns.is_empty() && !name.is_empty() && !name.contains('/') {
                return Ok(Target::Service {
                    namespace: ns.into(),
                    name: name.into(),
                });
            }
        }
        if rest.contains('/') {
            return bad("a Service is svc/NAMESPACE/NAME");
        }
    }
    let Some((ns, rest)) = s.split_once('/') else {
        return bad("no namespace");
    };
    if ns.is_empty() || rest.is_empty() || rest.contains('/') {
        return bad("not NAMESPACE/NAME");
    }
    if !rest.contains('=') {
        return Ok(Target::Pod {
            namespace: ns.into(),
            name: rest.into(),
        });
    }
    let mut labels = Vec::new();
    for pair in rest.split(',') {
        let (k, v) = pair
            .split_once("==")
            .or_else(|| pair.split_once('='))
            .unwrap_or((pair, ""));
        if k.is_empty() || k.ends_with('!') || !pair.contains('=') {
            return bad(&format!("'{pair}' is not LABEL=VALUE"));
        }
        labels.push((k.to_string(), v.to_string()));
    }
    Ok(Target::Selector {
        namespace: ns.into(),
        labels,
    })
}

/// `80`, `80/TCP`, `53/udp`.
pub fn parse_port(s: &str) -> Result<PortQuery, String> {
    let (p, proto) = s.split_once('/').unwrap_or((s, "TCP"));
    let proto = proto.to_ascii_uppercase();
    let port: u16 = p
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("--port '{s}': '{p}' is not a port number from 1 to 65535; expected PORT[/PROTOCOL], e.g. 80/TCP or 53/UDP"))?;
    if !["TCP", "UDP", "SCTP"].contains(&proto.as_str()) {
        return Err(format!(
            "--port '{s}': protocol '{proto}' is not TCP, UDP or SCTP"
        ));
    }
    Ok(PortQuery {
        port,
        protocol: proto,
    })
}

/// The question as typed on the command line.
pub fn parse_query(from: &str, to: &str, port: Option<&str>) -> Result<ReachQuery, String> {
    Ok(ReachQuery {
        from: parse_target(from).map_err(|e| format!("FROM {e}"))?,
        to: parse_target(to).map_err(|e| format!("TO {e}"))?,
        port: port.map(parse_port).transpose()?,
    })
}

/// Whether the question names things the cluster has: pods, a Service with pods.
pub fn check_query(c: &Cluster, q: &ReachQuery) -> Result<(), String> {
    let ix = Index::new(c);
    let from = resolve(c, &ix, &q.from).map_err(|e| format!("FROM: {e}"))?;
    let to = resolve(c, &ix, &q.to).map_err(|e| format!("TO: {e}"))?;
    if let (Resolved::Addr(a), Resolved::Addr(b)) = (&from, &to) {
        return Err(format!(
            "{a} and {b} are both outside the cluster: at least one side must be a pod or a Service"
        ));
    }
    Ok(())
}

fn target_text(t: &Target) -> String {
    match t {
        Target::Pod { namespace, name } => format!("pod {namespace}/{name}"),
        Target::Selector { namespace, labels } => format!(
            "pods {} in {namespace}",
            labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        ),
        Target::Service { namespace, name } => format!("service {namespace}/{name}"),
        Target::Cidr(n) => format!("{n}"),
    }
}

pub fn resolve(c: &Cluster, ix: &Index, t: &Target) -> Result<Resolved, String> {
    let pods_unread = || {
        c.error_for(what::PODS)
            .map(|e| format!(" (pods could not be read: {})", e.reason))
            .unwrap_or_default()
    };
    let desc = target_text(t);
    match t {
        Target::Cidr(net) => {
            // A pod's own address is that pod.
            if net.prefix_len() == net.max_prefix_len() {
                let ip = net.addr();
                if let Some(i) = ix
                    .pods
                    .iter()
                    .position(|p| !p.host_network && p.ips.contains(&ip))
                {
                    return Ok(Resolved::Pods {
                        desc: format!("pod {} ({ip})", ix.pods[i].id()),
                        pods: vec![i],
                    });
                }
            }
            Ok(Resolved::Addr(*net))
        }
        Target::Pod { namespace, name } => ix
            .pods
            .iter()
            .position(|p| p.ns == namespace && p.name == name.as_str())
            .map(|i| Resolved::Pods {
                desc: desc.clone(),
                pods: vec![i],
            })
            .ok_or_else(|| format!("pod {namespace}/{name} not found{}", pods_unread())),
        Target::Selector { namespace, labels } => {
            let pods: Vec<usize> = (0..ix.pods.len())
                .filter(|&i| {
                    let p = &ix.pods[i];
                    p.ns == namespace && labels.iter().all(|(k, v)| p.label(k) == Some(v))
                })
                .collect();
            if pods.is_empty() {
                let want: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
                return Err(format!(
                    "no pod in namespace {namespace} has the labels {}{}",
                    want.join(","),
                    pods_unread()
                ));
            }
            Ok(Resolved::Pods { desc, pods })
        }
        Target::Service { namespace, name } => {
            let svc = c
                .services
                .iter()
                .find(|s| s.metadata.ns() == namespace && s.metadata.name == *name)
                .ok_or_else(|| {
                    let read = c
                        .error_for(what::SERVICES)
                        .map(|e| format!(" (services could not be read: {})", e.reason))
                        .unwrap_or_default();
                    format!("service {namespace}/{name} not found{read}")
                })?;
            let pods: Vec<usize> = match &svc.spec.selector {
                Some(sel) if !sel.is_empty() => (0..ix.pods.len())
                    .filter(|&i| {
                        let p = &ix.pods[i];
                        p.ns == namespace && sel.iter().all(|(k, v)| p.label(k) == Some(v.as_str()))
                    })
                    .collect(),
                // Without a selector the endpoints are whatever was put in them: their
                // addresses, where they are pods.
                _ => {
                    let addrs: Vec<IpAddr> = c
                        .endpoint_slices
                        .iter()
                        .filter(|s| {
                            s.metadata.ns() == namespace && s.service() == Some(name.as_str())
                        })
                        .flat_map(|s| s.endpoints.iter().flat_map(|e| e.addresses.iter()))
                        .filter_map(|a| a.parse().ok())
                        .collect();
                    (0..ix.pods.len())
                        .filter(|&i| ix.pods[i].ips.iter().any(|ip| addrs.contains(ip)))
                        .collect()
                }
            };
            if pods.is_empty() {
                return Err(format!(
                    "service {namespace}/{name} has no pods behind it{}",
                    pods_unread()
                ));
            }
            Ok(Resolved::Pods { desc, pods })
        }
    }
}

/// The port on the destination pod: a Service's port is its targetPort there.
fn dest_port(c: &Cluster, to: &Target, q: &PortQuery, dst: &PodView) -> PortQuery {
    let Target::Service { namespace, name } = to else {
        return q.clone();
    };
    let Some(sp) = c
        .services
        .iter()
        .find(|s| s.metadata.ns() == namespace && s.metadata.name == *name)
        .and_then(|s| {
            s.spec
                .ports
                .iter()
                .find(|p| p.port == i32::from(q.port) && p.protocol() == q.protocol)
        })
    else {
        return q.clone();
    };
    let port = match sp.target() {
        IntOrString::Int(n) => u16::try_from(n).unwrap_or(q.port),
        IntOrString::Str(n) => dst
            .ports
            .iter()
            .find(|cp| cp.name.as_deref() == Some(n.as_str()) && cp.protocol() == q.protocol)
            .and_then(|cp| u16::try_from(cp.container_port).ok())
            .unwrap_or(q.port),
    };
    PortQuery {
        port,
        protocol: q.protocol.clone(),
    }
}

pub fn can_reach(c: &Cluster, q: &ReachQuery, cni: &Cni) -> Result<ReachAnswer, String> {
    let ix = Index::new(c);
    let from = resolve(c, &ix, &q.from)?;
    let to = resolve(c, &ix, &q.to)?;
    if let (Resolved::Addr(a), Resolved::Addr(b)) = (&from, &to) {
        return Err(format!(
            "{a} and {b} are both outside the cluster: at least one side must be a pod or a Service"
        ));
    }
    let side_of = |r: &Resolved| -> (Vec<End>, String) {
        match r {
            Resolved::Pods { desc, pods } => {
                (pods.iter().map(|i| End::Pod(*i)).collect(), desc.clone())
            }
            Resolved::Addr(a) => (vec![End::Addr(*a)], a.to_string()),
        }
    };
    let (srcs, src_desc) = side_of(&from);
    let (dsts, dst_desc) = side_of(&to);
    let mut pairs: Vec<(Flow, PairVerdict)> = Vec::with_capacity(srcs.len() * dsts.len());
    for s in &srcs {
        for d in &dsts {
            let flow = Flow {
                src: *s,
                dst: *d,
                port: match (&q.port, d) {
                    (Some(p), End::Pod(i)) => Some(dest_port(c, &q.to, p, &ix.pods[*i])),
                    (p, _) => p.clone(),
                },
            };
            let v = ix.flow(&flow);
            pairs.push((flow, v));
        }
    }
    let count = |v| pairs.iter().filter(|(_, p)| p.verdict == v).count();
    let (allowed, denied, unknown) = (
        count(Verdict::Allowed),
        count(Verdict::Denied),
        count(Verdict::Unknown),
    );
    let verdict = combine(pairs.iter().map(|(_, p)| p.verdict));
    let suggestion = pairs
        .iter()
        .find(|(_, p)| p.verdict == Verdict::Denied)
        .map(|(f, p)| suggest(&ix, q, f, p));
    let total = pairs.len();
    pairs.sort_by_key(|(_, p)| match p.verdict {
        Verdict::Denied => 0,
        Verdict::Unknown => 1,
        Verdict::Allowed => 2,
    });
    pairs.truncate(MAX_PAIRS);
    Ok(ReachAnswer {
        from: src_desc,
        to: dst_desc,
        port: q
            .port
            .as_ref()
            .map(|p| format!("{}/{}", p.port, p.protocol)),
        verdict,
        enforcement: enforcement(c, cni),
        pairs_total: total,
        allowed,
        denied,
        unknown,
        pairs: pairs.into_iter().map(|(_, p)| p).collect(),
        not_evaluated: not_evaluated(c)
            .iter()
            .map(|n| format!("{} {}: {}", n.count, n.kind, n.names.join(", ")))
            .collect(),
        suggestion,
    })
}

/// One end of a flow: a pod of the index, or addresses outside the cluster.
#[derive(Debug, Clone, Copy)]
pub enum End {
    Pod(usize),
    Addr(IpNet),
}

/// One flow: from, to, and the port on the destination pod.
pub struct Flow {
    pub src: End,
    pub dst: End,
    pub port: Option<PortQuery>,
}

impl<'a> Index<'a> {
    fn peer(&self, e: End) -> Peer<'_, 'a> {
        match e {
            End::Pod(i) => Peer::Pod(&self.pods[i]),
            End::Addr(a) => Peer::Addr(a),
        }
    }
    fn end_text(&self, e: End) -> String {
        match e {
            End::Pod(i) => self.pods[i].id(),
            End::Addr(a) => a.to_string(),
        }
    }

    /// Both directions of one flow: the sender's egress and the receiver's ingress.
    pub fn flow(&self, f: &Flow) -> PairVerdict {
        let port = f.port.as_ref();
        let egress = match f.src {
            End::Pod(i) => Some(self.side(Dir::Egress, &self.pods[i], self.peer(f.dst), port)),
            End::Addr(_) => None,
        };
        let ingress = match f.dst {
            End::Pod(i) => Some(self.side(Dir::Ingress, &self.pods[i], self.peer(f.src), port)),
            End::Addr(_) => None,
        };
        let verdict = combine([&egress, &ingress].into_iter().flatten().map(|s| s.verdict));
        let to = match (&f.port, f.dst) {
            (Some(p), End::Pod(_)) => format!("{}:{}/{}", self.end_text(f.dst), p.port, p.protocol),
            _ => self.end_text(f.dst),
        };
        PairVerdict {
            from: self.end_text(f.src),
            to,
            verdict,
            egress,
            ingress,
        }
    }
}

fn combine(vs: impl Iterator<Item = Verdict>) -> Verdict {
    let mut out = Verdict::Allowed;
    for v in vs {
        match v {
            Verdict::Denied => return Verdict::Denied,
            Verdict::Unknown => out = Verdict::Unknown,
            Verdict::Allowed => {}
        }
    }
    out
}

// ---------- the suggestion ----------

/// Labels a workload controller adds to each pod, which a policy should not pin.
const GENERATED_LABELS: &[&str] = &[
    "pod-template-hash",
    "controller-revision-hash",
    "pod-template-generation",
    "statefulset.kubernetes.io/pod-name",
    "batch.kubernetes.io/controller-uid",
    "controller-uid",
];

/// The labels that select a side's pods: the ones asked for, else the pod's own (less those
/// its controller generates, which change with each rollout).
fn selector_for(t: &Target, p: &PodView) -> BTreeMap<String, String> {
    match t {
        Target::Selector { labels, .. } => labels.iter().cloned().collect(),
        _ => p
            .labels()
            .into_iter()
            .filter(|(k, _)| !GENERATED_LABELS.contains(k))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

fn slug(s: &str) -> String {
    let s: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    s.trim_matches('-').chars().take(50).collect()
}

fn suggest(ix: &Index, q: &ReachQuery, f: &Flow, pair: &PairVerdict) -> Suggestion {
    use serde_json::{json, Value};
    let denied_by = |s: &Option<SideVerdict>| {
        s.as_ref()
            .filter(|s| s.verdict == Verdict::Denied)
            .map(|s| s.decided_by.clone())
    };
    let (eg, ing) = (denied_by(&pair.egress), denied_by(&pair.ingress));
    if eg.as_deref() == Some("admin") || ing.as_deref() == Some("admin") {
        return Suggestion {
            note: "an AdminNetworkPolicy denies this flow, and no NetworkPolicy can override it: only an Allow or Pass rule of a higher-priority AdminNetworkPolicy can".into(),
            yaml: String::new(),
        };
    }
    let ports = f
        .port
        .as_ref()
        .map(|p| json!([{ "protocol": p.protocol, "port": p.port }]));
    // The far end as a peer: its pods by label in its namespace, or its addresses.
    let peer = |e: End, t: &Target| match e {
        End::Addr(a) => json!({ "ipBlock": { "cidr": a.to_string() } }),
        End::Pod(i) => {
            let p = &ix.pods[i];
            json!({
                "namespaceSelector": { "matchLabels": { NAMESPACE_NAME_LABEL: p.ns } },
                "podSelector": { "matchLabels": selector_for(t, p) }
            })
        }
    };
    let mut docs: Vec<Value> = Vec::new();
    let mut notes = vec![format!(
        "allows exactly {} -> {}; printed, never applied",
        pair.from, pair.to
    )];
    let mut add = |dir: Dir,
                   subject: usize,
                   subject_t: &Target,
                   far: Value,
                   far_name: String,
                   baseline: bool| {
        let p = &ix.pods[subject];
        let (ty, key, prefix) = match dir {
            Dir::Ingress => ("Ingress", "from", "allow-from-"),
            Dir::Egress => ("Egress", "to", "allow-to-"),
        };
        let mut rule = json!({ key: [far] });
        if let Some(ports) = &ports {
            rule["ports"] = ports.clone();
        }
        if baseline {
            notes.push(format!(
                "no NetworkPolicy selects {} for {} yet (the BaselineAdminNetworkPolicy denies this): this one isolates it, so its other {} must then be allowed by NetworkPolicies too",
                p.id(),
                dir.name(),
                dir.name()
            ));
        }
        docs.push(json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": { "name": format!("{prefix}{}", slug(&far_name)), "namespace": p.ns },
            "spec": {
                "podSelector": { "matchLabels": selector_for(subject_t, p) },
                "policyTypes": [ty],
                dir.name(): [rule],
            },
        }));
    };
    if let (Some(by), End::Pod(s)) = (&eg, f.src) {
        add(
            Dir::Egress,
            s,
            &q.from,
            peer(f.dst, &q.to),
            ix.end_text(f.dst),
            by == "baseline",
        );
    }
    if let (Some(by), End::Pod(d)) = (&ing, f.dst) {
        add(
            Dir::Ingress,
            d,
            &q.to,
            peer(f.src, &q.from),
            ix.end_text(f.src),
            by == "baseline",
        );
    }
    let yaml = docs
        .iter()
        .map(|d| serde_saphyr::to_string(d).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("---\n");
    Suggestion {
        note: notes.join("; "),
        yaml,
    }
}

// ---------- enforcement and the CNI's own policies ----------

/// DaemonSets of policy engines that run beside another CNI's networking.
const POLICY_AGENTS: &[(&str, &str)] = &[
    ("calico-node", "Calico"),
    ("cilium", "Cilium"),
    ("kube-router", "kube-router"),
    ("antrea-agent", "Antrea"),
    ("azure-npm", "Azure Network Policy Manager"),
    ("kube-network-policies", "kube-network-policies"),
    ("weave-net", "weave-npc"),
];

/// Whether the detected CNI implements NetworkPolicy. Sources, per plugin:
/// - flannel alone does not (flannel-io/flannel issue #558; Calico's docs "Install Calico for
///   policy and flannel (aka Canal)"); canal adds Calico's policy agent to it.
/// - calico, cilium, antrea, kube-router, weave (weave-npc): each is listed as a
///   NetworkPolicy provider in the Kubernetes docs ("Install a Network Policy Provider").
/// - kindnet: kind's kindnetd enforces since kind v0.24.0 (kubernetes-sigs/kind PR #3612,
///   issue #842; kindnetd images tagged v20240513 and before, kind v0.23, do not: issue #3705);
///   standalone kindnet since v1.3.0 (kubernetes/minikube issue #19871).
/// - k3s: its embedded kube-router policy controller, unless --disable-network-policy
///   (k3s-io/k3s issue #7244).
/// - aws-vpc-cni: only with the network policy agent enabled (VPC CNI 1.14+, opt-in: the
///   VPC CNI network policy FAQ).
/// - gke-dataplane-v2: built in (GKE Dataplane V2 docs).
/// - ovn-kubernetes, kube-ovn: built in (their ACLs implement NetworkPolicy).
pub fn enforcement(c: &Cluster, cni: &Cni) -> Enforcement {
    let e = |enforces: &str, why: String| Enforcement {
        cni: cni.name.clone(),
        enforces: enforces.into(),
        why,
    };
    let beside = c.daemon_sets.iter().find_map(|d| {
        POLICY_AGENTS
            .iter()
            .find(|(n, _)| d.metadata.name == *n)
            .map(|(_, what)| (d, *what))
    });
    match cni.name.as_str() {
        "calico" | "canal" | "cilium" | "antrea" | "kube-router" | "weave" | "ovn-kubernetes"
        | "kube-ovn" | "gke-dataplane-v2" => e(
            "yes",
            format!("{} implements NetworkPolicy", cni.name),
        ),
        "kindnet" => kindnet(c, cni, e),
        "k3s-flannel" => {
            let disabled = c.nodes.iter().find(|n| {
                n.metadata
                    .annotations
                    .get("k3s.io/node-args")
                    .is_some_and(|a| a.contains("--disable-network-policy"))
            });
            match disabled {
                Some(n) => e("no", format!("k3s runs with --disable-network-policy (node {} k3s.io/node-args) and flannel does not implement NetworkPolicy", n.name())),
                None => e("yes", "k3s's embedded network policy controller (kube-router's) enforces NetworkPolicy unless started with --disable-network-policy".into()),
            }
        }
        "aws-vpc-cni" => {
            let agent = cni::agent(c, cni).and_then(|ds| {
                ds.spec.template.spec.containers.iter().find(|ct| ct.name == "aws-network-policy-agent")
            });
            match agent {
                Some(ct) if ct.argv().any(|a| a == "--enable-network-policy=true") => {
                    e("yes", "aws-node's aws-network-policy-agent runs with --enable-network-policy=true".into())
                }
                _ => match beside {
                    Some((d, what)) => e("yes", format!("{what} (daemonset {}/{}) enforces NetworkPolicy beside the VPC CNI", d.metadata.ns(), d.metadata.name)),
                    None => e("no", "the VPC CNI enforces NetworkPolicy only with its network policy agent enabled (--enable-network-policy=true), which aws-node does not show".into()),
                },
            }
        }
        _ => match beside {
            Some((d, what)) => e(
                "yes",
                format!(
                    "{what} (daemonset {}/{}) enforces NetworkPolicy beside {}",
                    d.metadata.ns(),
                    d.metadata.name,
                    cni.name
                ),
            ),
            None => match cni.name.as_str() {
                "flannel" | "kubenet" | "azure-cni" => e(
                    "no",
                    format!("{} does not implement NetworkPolicy, and no policy engine (Calico, Cilium, kube-router, Antrea, Azure NPM) runs beside it", cni.name),
                ),
                _ => e("unknown", format!("whether {} enforces NetworkPolicy is not known to netcheck", cni.name)),
            },
        },
    }
}

fn kindnet(c: &Cluster, cni: &Cni, e: impl Fn(&str, String) -> Enforcement) -> Enforcement {
    let image = cni::agent(c, cni)
        .and_then(|ds| ds.spec.template.spec.containers.first())
        .map(|ct| ct.image.clone())
        .unwrap_or_default();
    let tag = image.rsplit_once(':').map(|(_, t)| t).unwrap_or("");
    // kind's images are tagged vYYYYMMDD-commit; the first with policies is from 2024-07-30
    // (kind PR #3698 bumped it for v0.24.0); v20240513 (kind v0.23) had none.
    let date = tag
        .strip_prefix('v')
        .and_then(|t| t.split('-').next())
        .filter(|d| d.len() == 8)
        .and_then(|d| d.parse::<u32>().ok());
    match date {
        Some(d) if d >= 20240730 => e(
            "yes",
            format!("kindnetd {tag} enforces NetworkPolicy (kind v0.24.0 and later)"),
        ),
        Some(d) if d <= 20240513 => e(
            "no",
            format!("kindnetd {tag} predates kind's NetworkPolicy support (kind v0.24.0)"),
        ),
        _ => {
            let semver = tag.strip_prefix('v').and_then(|t| {
                let mut it = t.split('.');
                Some((
                    it.next()?.parse::<u32>().ok()?,
                    it.next()?.parse::<u32>().ok()?,
                ))
            });
            match semver {
                Some(v) if v >= (1, 3) => e("yes", format!("kindnet {tag} enforces NetworkPolicy (since v1.3.0)")),
                Some(_) => e("no", format!("kindnet {tag} predates its NetworkPolicy support (v1.3.0)")),
                None => e("unknown", format!("kindnet image {image:?}: its version does not tell whether it enforces NetworkPolicy (kind v0.24.0 and kindnet v1.3.0 and later do)")),
            }
        }
    }
}

pub fn not_evaluated(c: &Cluster) -> Vec<NotEvaluated> {
    CNI_POLICY_TYPES
        .iter()
        .filter_map(|t| {
            let names: Vec<String> = c
                .objects_of(t)
                .map(|o| match &o.metadata.namespace {
                    Some(ns) => format!("{ns}/{}", o.metadata.name),
                    None => o.metadata.name.to_string(),
                })
                .collect();
            (!names.is_empty()).then(|| NotEvaluated {
                kind: format!("{} ({})", t.kind, t.api_version()),
                count: names.len(),
                names,
            })
        })
        .collect()
}

// ---------- policies ----------

pub fn policies(c: &Cluster, cni: &Cni) -> PoliciesAnswer {
    // With no policy of any kind, nothing below reads a pod: the index of every pod was the
    // 5,000-node report's peak (heaptrack: 14 MB of 124 MB, for a cluster without policies).
    let none = c.network_policies.iter().flatten().next().is_none()
        && [ADMIN_NETWORK_POLICY, BASELINE_ADMIN_NETWORK_POLICY]
            .iter()
            .all(|t| c.objects_of(t).next().is_none());
    let ix = Index::build(c, !none);
    let mut by_ns: BTreeMap<&str, NamespacePolicies> = BTreeMap::new();
    for p in c.network_policies.iter().flatten() {
        let ns = p.metadata.ns();
        by_ns
            .entry(ns)
            .or_insert_with(|| NamespacePolicies {
                namespace: ns.to_string(),
                policies: vec![],
                pods: 0,
                ingress_isolated: vec![],
                egress_isolated: vec![],
            })
            .policies
            .push(p.metadata.name.to_string());
    }
    for p in &ix.pods {
        if let Some(n) = by_ns.get_mut(p.ns) {
            n.pods += 1;
            if !ix.selecting(p, Dir::Ingress).is_empty() {
                n.ingress_isolated.push(p.name.to_string());
            }
            if !ix.selecting(p, Dir::Egress).is_empty() {
                n.egress_isolated.push(p.name.to_string());
            }
        }
    }
    let pods_read = c.error_for(what::PODS).is_none();
    let mut select_nothing = Vec::new();
    let mut dead_peers = Vec::new();
    let ns_names: Vec<&str> = match &c.namespaces {
        Some(v) => v.iter().map(|n| n.metadata.name.as_str()).collect(),
        None => {
            let mut v: Vec<&str> = ix.pods.iter().map(|p| p.ns).collect();
            v.sort_unstable();
            v.dedup();
            v
        }
    };
    if pods_read {
        for np in c.network_policies.iter().flatten() {
            let ns = np.metadata.ns();
            if !ix.pods.iter().any(|p| {
                p.ns == ns && !p.host_network && np.spec.pod_selector.matches(|k| p.label(k))
            }) {
                select_nothing.push(policy_id(np));
            }
            let rules = np
                .spec
                .ingress
                .iter()
                .enumerate()
                .flat_map(|(i, r)| {
                    r.from
                        .iter()
                        .enumerate()
                        .map(move |(j, p)| (format!("ingress[{i}].from[{j}]"), p))
                })
                .chain(np.spec.egress.iter().enumerate().flat_map(|(i, r)| {
                    r.to.iter()
                        .enumerate()
                        .map(move |(j, p)| (format!("egress[{i}].to[{j}]"), p))
                }));
            for (at, peer) in rules {
                if let Some(why) = dead_peer(&ix, c, ns, peer, &ns_names) {
                    dead_peers.push(DeadPeer {
                        policy: policy_id(np),
                        peer: at,
                        why,
                    });
                }
            }
        }
    }
    PoliciesAnswer {
        enforcement: enforcement(c, cni),
        unknown: ix.unknown.clone(),
        namespaces: by_ns.into_values().collect(),
        admin: ix.admin_summary.clone(),
        not_evaluated: not_evaluated(c),
        select_nothing,
        dead_peers,
    }
}

/// Why a peer can never match anything, if it cannot: its namespaceSelector selects no
/// namespace, or its podSelector no pod of the namespaces it covers.
fn dead_peer(
    ix: &Index,
    c: &Cluster,
    pns: &str,
    peer: &PolicyPeer,
    ns_names: &[&str],
) -> Option<String> {
    if peer.ip_block.is_some() {
        return None;
    }
    let unknown = Cell::new(false);
    let namespaces: Vec<&str> = match &peer.namespace_selector {
        None => vec![pns],
        Some(s) => ns_names
            .iter()
            .copied()
            .filter(|n| ix.ns_matches(s, n, &unknown))
            .collect(),
    };
    // Labels of unread namespaces: the selector may match them.
    if unknown.get() {
        return None;
    }
    if let (Some(s), true) = (&peer.namespace_selector, namespaces.is_empty()) {
        let read = if c.namespaces.is_some() {
            ""
        } else {
            " (of the namespaces pods run in)"
        };
        return Some(format!(
            "namespaceSelector {} matches no namespace{read}",
            s.describe()
        ));
    }
    let sel = peer.pod_selector.as_ref()?;
    let any = ix
        .pods
        .iter()
        .any(|p| !p.host_network && namespaces.contains(&p.ns) && sel.matches(|k| p.label(k)));
    (!any).then(|| {
        format!(
            "podSelector {} matches no pod in {}",
            sel.describe(),
            if peer.namespace_selector.is_some() {
                format!("the namespaces it selects ({})", namespaces.join(", "))
            } else {
                format!("namespace {pns}")
            }
        )
    })
}
