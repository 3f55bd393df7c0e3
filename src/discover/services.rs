//! Every Service, walked as the Kubernetes "Debug Services" recipe walks one: its ClusterIPs
//! against the service range, the pods its selector matches and whether they are Ready, its
//! endpoints (EndpointSlices, or core Endpoints) with the pod and node behind each, targetPort
//! against the ports the pods declare, NodePorts against the node-port range, LoadBalancer
//! status against the implementations present, external IPs and traffic policies.
//!
//! Selectors are matched against label sets, not pods: the pods of one template share one, so
//! a namespace's Services are compared with its few distinct label sets.

use super::components;
use crate::cidr;
use crate::model::*;
use crate::parse::{config, flags};
use crate::report::*;
use std::net::IpAddr;

pub const NODE_PORT_DEFAULT: (i32, i32) = (30000, 32767);

/// Pods grouped by namespace and label set, in one list ordered by group. Label sets are
/// numbered once for all namespaces (pods of one template share theirs, and the same
/// templates run in many namespaces); a group is a namespace and a label set. Full pods are
/// seen reduced, as all others are.
struct Index<'a> {
    /// Each distinct label set (equal sets are one, whichever pods hold them).
    labels: Vec<&'a Labels>,
    /// The label sets that carry each (key, value) pair.
    by_pair: FastMap<(&'a str, &'a str), Vec<u32>>,
    /// Each namespace's number and groups.
    namespaces: FastMap<&'a str, (u32, Vec<u32>)>,
    /// (namespace, label set) to group.
    group_of: FastMap<(u32, u32), u32>,
    /// Each group's label set and where its pods lie in `pods`.
    /// Ranges of u32, not usize: 12 bytes a group, not 24 (40,000 groups at 150,000 pods).
    groups: Vec<(u32, std::ops::Range<u32>)>,
    pods: Vec<&'a WorkloadPod>,
}

impl<'a> Index<'a> {
    fn new(pods: impl Iterator<Item = &'a WorkloadPod> + Clone) -> Index<'a> {
        let mut ix = Index {
            labels: vec![],
            by_pair: FastMap::default(),
            namespaces: FastMap::default(),
            group_of: FastMap::default(),
            groups: vec![],
            pods: vec![],
        };
        // Names and label sets are shared between pods, so most are known by address alone.
        let mut ns_at: FastMap<usize, u32> = FastMap::default();
        let mut labels_at: FastMap<usize, u32> = FastMap::default();
        let mut labels_id: FastMap<&Labels, u32> = FastMap::default();
        let running = pods.filter(|w| !w.finished);
        // Each pod's group, in the order given: sized once (at 150,000 pods doubling kept up to
        // twice the room at the peak), and the pods themselves are walked again to place them
        // rather than kept beside (4 bytes a pod, not 16).
        let mut pod_group: Vec<u32> = Vec::with_capacity(running.size_hint().1.unwrap_or(0));
        for w in running.clone() {
            let ns = *ns_at.entry(w.namespace.address()).or_insert_with(|| {
                let n = ix.namespaces.len() as u32;
                ix.namespaces.entry(&w.namespace).or_insert((n, vec![])).0
            });
            let labels = *labels_at.entry(w.labels.address()).or_insert_with(|| {
                *labels_id.entry(&w.labels).or_insert_with(|| {
                    let id = ix.labels.len() as u32;
                    for pair in w.labels.iter() {
                        ix.by_pair.entry(pair).or_default().push(id);
                    }
                    ix.labels.push(&w.labels);
                    id
                })
            });
            let group = *ix.group_of.entry((ns, labels)).or_insert_with(|| {
                let g = ix.groups.len() as u32;
                ix.groups.push((labels, 0..0));
                if let Some((_, groups)) = ix.namespaces.get_mut(&*w.namespace) {
                    groups.push(g);
                }
                g
            });
            ix.groups[group as usize].1.end += 1;
            pod_group.push(group);
        }
        // Counting sort by group: each group's pods side by side, in the order given.
        let mut start = 0;
        for (_, r) in &mut ix.groups {
            let n = r.end;
            *r = start..start;
            start += n;
        }
        let Some(first) = running.clone().next() else {
            return ix;
        };
        // Every place is written below; `first` only fills them until then.
        ix.pods = vec![first; pod_group.len()];
        for (g, w) in pod_group.into_iter().zip(running) {
            let r = &mut ix.groups[g as usize].1;
            ix.pods[r.end as usize] = w;
            r.end += 1;
        }
        ix
    }

    fn pods(&self) -> impl Iterator<Item = &'a WorkloadPod> + '_ {
        self.pods.iter().copied()
    }

    fn group(&self, g: u32) -> (&'a Labels, &[&'a WorkloadPod]) {
        let (labels, r) = &self.groups[g as usize];
        (
            self.labels[*labels as usize],
            &self.pods[r.start as usize..r.end as usize],
        )
    }

    /// The pods a selector matches in a namespace: of the label sets that carry its rarest
    /// pair, those that carry every pair, and their pods in that namespace.
    fn select(&self, ns: &str, sel: &StrMap) -> Vec<&'a WorkloadPod> {
        let Some((ns, _)) = self.namespaces.get(ns) else {
            return vec![];
        };
        let matches = |labels: &Labels| sel.iter().all(|(k, v)| labels.get(k) == Some(v.as_str()));
        let all: Vec<u32>;
        let candidates = match sel
            .iter()
            .map(|(k, v)| self.by_pair.get(&(k.as_str(), v.as_str())))
            .min_by_key(|l| l.map_or(0, Vec::len))
        {
            None => {
                all = (0..self.labels.len() as u32).collect();
                &all
            }
            Some(None) => return vec![],
            Some(Some(list)) => list,
        };
        candidates
            .iter()
            .filter(|&&l| matches(self.labels[l as usize]))
            .filter_map(|&l| self.group_of.get(&(*ns, l)))
            .flat_map(|&g| self.group(g).1.iter().copied())
            .collect()
    }

    /// For a selector that matches nothing: the label sets that come closest, with a pod of
    /// each and the selector pairs it misses.
    fn closest(&self, ns: &str, sel: &StrMap) -> Vec<String> {
        let Some((_, groups)) = self.namespaces.get(ns) else {
            return vec![];
        };
        // Closeness: selector pairs matched, then keys present, then how alike the values
        // are (a typo, a suffix: app=web against app=webapp).
        let alike = |a: &str, b: &str| {
            let prefix = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
            prefix + usize::from(a.contains(b) || b.contains(a)) * 8
        };
        let mut scored: Vec<(usize, usize, usize, String)> = groups
            .iter()
            .map(|&g| self.group(g))
            .filter_map(|(labels, pods)| {
                let get = |k: &str| labels.get(k);
                let same = sel
                    .iter()
                    .filter(|(k, v)| get(k) == Some(v.as_str()))
                    .count();
                let keys = sel.iter().filter(|(k, _)| get(k).is_some()).count();
                if keys == 0 {
                    return None;
                }
                let near: usize = sel
                    .iter()
                    .filter_map(|(k, v)| Some(alike(get(k)?, v)))
                    .sum();
                let diff: Vec<String> = sel
                    .iter()
                    .filter(|(k, v)| get(k) != Some(v.as_str()))
                    .map(|(k, v)| match get(k) {
                        Some(have) => format!("{k}={have} (selector wants {v})"),
                        None => format!("no {k} label (selector wants {k}={v})"),
                    })
                    .collect();
                Some((
                    same,
                    keys,
                    near,
                    format!("pod {ns}/{} has {}", pods[0].name, diff.join(", ")),
                ))
            })
            .collect();
        scored.sort_by(|a, b| (b.0, b.1, b.2).cmp(&(a.0, a.1, a.2)).then(a.3.cmp(&b.3)));
        scored.into_iter().take(3).map(|s| s.3).collect()
    }

    fn any_pod_in(&self, ns: &str) -> bool {
        self.namespaces.get(ns).is_some_and(|(_, g)| !g.is_empty())
    }
}

/// The slices of one Service, their endpoints walked in place: a pair per endpoint took
/// 2.2 MB at 94,000 endpoints (heaptrack, issue #20).
type Ends<'a> = Vec<&'a EndpointSlice>;

fn port_name_eq(a: Option<&str>, b: Option<&str>) -> bool {
    a.unwrap_or("") == b.unwrap_or("")
}

/// The infra pods, seen reduced as all others are. The pods of one DaemonSet carry one label
/// set and one port list, which are shared as the workload pods' are: 10,000 kube-proxy and
/// CNI pods otherwise made as many copies (2.2 MB at 5,000 nodes, heaptrack).
pub fn reduced_infra(c: &Cluster) -> Vec<WorkloadPod> {
    let mut shapes = Shapes::default();
    let reduce = |p| {
        let mut w = WorkloadPod::from(p);
        shapes.share(&mut w);
        w
    };
    c.pods.iter().map(reduce).collect()
}

/// The pods as Services see them: grouped by label set, and by address. Needs nothing the
/// other discoveries find, so it is built beside them.
pub struct Pods<'a> {
    index: Index<'a>,
    /// Every pod address with its pod's place in the index (two may hold one, where podCIDRs
    /// overlap), sorted. Made when first asked: only an endpoint whose pod the selector does
    /// not match needs it, and at 150,000 pods it took 3.6 MB and a sort (heaptrack, perf).
    holders: std::sync::OnceLock<Vec<(IpAddr, u32)>>,
}

impl<'a> Pods<'a> {
    pub fn new(c: &'a Cluster, infra: &'a [WorkloadPod]) -> Pods<'a> {
        Pods {
            index: Index::new(infra.iter().chain(&c.workload_pods)),
            holders: Default::default(),
        }
    }
    /// The pods that hold an address, by namespace and name.
    fn holding(&self, ip: IpAddr) -> impl Iterator<Item = &'a WorkloadPod> + Clone + '_ {
        let holders = self.holders.get_or_init(|| {
            let index = &self.index;
            let mut holders = Vec::with_capacity(index.pods().map(|p| p.ips.len()).sum());
            holders.extend(
                (index.pods().zip(0..)).flat_map(|(p, i)| p.ips.iter().map(move |ip| (*ip, i))),
            );
            let pod = |i: u32| index.pods[i as usize];
            holders.sort_unstable_by(|a, b| {
                let (p, q) = (pod(a.1), pod(b.1));
                (a.0, &p.namespace, &p.name).cmp(&(b.0, &q.namespace, &q.name))
            });
            holders
        });
        let from = holders.partition_point(|h| h.0 < ip);
        let to = from + holders[from..].partition_point(|h| h.0 <= ip);
        holders[from..to]
            .iter()
            .map(|&(_, i)| self.index.pods[i as usize])
    }
}

pub fn discover(
    c: &Cluster,
    cidrs: &CidrAnswer,
    pods: &Pods,
    scope: &Scope,
    problems_only: bool,
) -> ServicesAnswer {
    let converted: Vec<EndpointSlice>;
    let slices: &[EndpointSlice] = if c.endpoint_slices.is_empty() && !c.endpoints.is_empty() {
        converted = c.endpoints.iter().flat_map(Endpoints::to_slices).collect();
        &converted
    } else {
        &c.endpoint_slices
    };
    let (endpoints_from, endpoints_evidence) = endpoints_source(c, slices.len());
    let have_endpoints = c.endpoints_api.is_some();
    let mut by_service: FastMap<(&str, &str), Ends> = FastMap::default();
    // A snapshot may hold a slice twice; the API never does.
    let mut seen_slices = FastSet::default();
    for s in slices.iter().filter(|s| {
        s.metadata.name.is_empty()
            || seen_slices.insert((s.metadata.ns(), s.metadata.name.as_str()))
    }) {
        if let Some(svc) = s.service() {
            let list = by_service.entry((s.metadata.ns(), svc)).or_default();
            list.push(s);
        }
    }
    let known: FastSet<(&str, &str)> = c
        .services
        .iter()
        .map(|s| (s.metadata.ns(), s.metadata.name.as_str()))
        .collect();
    // Without the Service list every slice would look orphaned: none is judged.
    let services_read = c.error_for(what::SERVICES).is_none();
    let mut orphan_slices: Vec<String> = slices
        .iter()
        .filter(|_| services_read)
        .filter_map(|s| {
            let svc = s.service()?;
            (!known.contains(&(s.metadata.ns(), svc))).then(|| {
                format!(
                    "endpointslice {}/{} names service {svc}, which does not exist",
                    s.metadata.ns(),
                    s.metadata.name
                )
            })
        })
        .collect();
    orphan_slices.sort();

    let pods_read = c.error_for(what::PODS).is_none();
    let (load_balancers, load_balancers_unseen) = load_balancers(c, &cidrs.platform);
    let ctx = RowCtx {
        c,
        cidrs,
        pods,
        node_ports: node_port_range(c, &cidrs.platform),
        load_balancers,
        load_balancers_unseen,
        external_ips_denied: external_ips_denied(c),
        have_endpoints,
        pod_detail: have_endpoints || c.error_for(what::ENDPOINTSLICES).is_some(),
        pods_read,
    };
    let mut counts = ServiceCounts::default();
    // The rows on two threads: this lane is the analysis's longest, and the other ends first.
    let rows = crate::model::in_two(&c.services, |s| {
        let in_scope = scope
            .namespace
            .as_deref()
            .is_none_or(|ns| ns == s.metadata.ns())
            && scope
                .service
                .as_deref()
                .is_none_or(|n| n == s.metadata.name);
        let eps = by_service
            .get(&(s.metadata.ns(), s.metadata.name.as_str()))
            .map(Vec::as_slice)
            .unwrap_or_default();
        // Boxed: a report keeps a few of 10,000 rows, and an empty slot is a row's size.
        let (problems, row) = ctx.row(s, eps, |problems| in_scope && (!problems_only || problems));
        (problems, row.map(Box::new))
    });
    let mut services = Vec::new();
    for (s, (problems, row)) in c.services.iter().zip(rows) {
        counts.total += 1;
        *counts.by_type.entry(s.kind().to_string()).or_default() += 1;
        counts.headless += usize::from(s.headless());
        counts.without_selector += usize::from(s.selector().is_none());
        counts.with_problems += usize::from(problems);
        services.extend(row.map(|r| *r));
    }
    services.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    ServicesAnswer {
        endpoints_from,
        endpoints_evidence,
        counts,
        node_port_range: ctx.node_ports.0,
        load_balancers: ctx.load_balancers,
        load_balancers_unseen: ctx.load_balancers_unseen,
        dns: dns(c),
        orphan_slices,
        unread: unread(c),
        shown: match (&scope.service, problems_only) {
            (Some(_), _) => "one",
            (None, true) => "problems",
            (None, false) => "all",
        }
        .into(),
        services,
        routes: None,
    }
}

/// The failed reads that leave part of this answer unknown: the Services, the pods, and the
/// endpoints when neither EndpointSlices nor core Endpoints could be read.
fn unread(c: &Cluster) -> Vec<CollectError> {
    let mut out: Vec<CollectError> = [what::SERVICES, what::PODS]
        .iter()
        .filter_map(|w| c.error_for(w).cloned())
        .collect();
    if c.endpoints_api.is_none() {
        out.extend(c.error_for(what::ENDPOINTSLICES).cloned());
    }
    out
}

fn endpoints_source(c: &Cluster, n: usize) -> (String, String) {
    let refused = c
        .error_for(what::ENDPOINTSLICES)
        .map(|e| format!("EndpointSlices could not be read ({})", e.reason));
    match c.endpoints_api.as_deref() {
        Some("discovery.k8s.io/v1") => ("discovery.k8s.io/v1".into(), format!("{n} EndpointSlice(s)")),
        Some(api) => (
            api.into(),
            format!(
                "{}; core Endpoints read instead ({} object(s))",
                refused.unwrap_or_else(|| "EndpointSlices are not served".into()),
                c.endpoints.len()
            ),
        ),
        None => (
            "none".into(),
            refused.unwrap_or_else(|| {
                "this snapshot was taken before netcheck read endpoints and pod labels: endpoint, selector and readiness checks are skipped".into()
            }),
        ),
    }
}

struct RowCtx<'a> {
    c: &'a Cluster,
    cidrs: &'a CidrAnswer,
    pods: &'a Pods<'a>,
    node_ports: (NodePortRange, Option<(i32, i32)>),
    load_balancers: Vec<Implementation>,
    /// Where implementations could not be looked for, and why.
    load_balancers_unseen: Vec<String>,
    external_ips_denied: Option<bool>,
    have_endpoints: bool,
    /// Pods were read with their labels and readiness (not an older snapshot).
    pod_detail: bool,
    pods_read: bool,
}

impl RowCtx<'_> {
    /// Whether the Service has problems, and its row if `keep` (given that) wants it: a
    /// report keeps only the rows with problems, and the others' endpoint texts are not made.
    fn row(
        &self,
        s: &Service,
        slices: &[&EndpointSlice],
        keep: impl Fn(bool) -> bool,
    ) -> (bool, Option<ServiceRow>) {
        // (slice ports, endpoint)
        let eps = || {
            slices
                .iter()
                .flat_map(|s| s.endpoints.iter().map(|e| (s.ports.as_slice(), e)))
        };
        let ns = s.metadata.ns();
        let range = &self.cidrs.service_cidr;
        let believe = range.status == FactStatus::Known
            || (range.status == FactStatus::Inferred && range.chosen != Some(SourceId::ServiceIps));
        let mut problems = Vec::new();
        let mut problem = |id: &str, severity: Severity, detail: String| {
            problems.push(Problem {
                id: id.into(),
                severity,
                detail,
            })
        };
        let cluster_ips: Vec<ClusterIp> = s
            .ips()
            .into_iter()
            .map(|ip| {
                let in_range = cidr::parse_ip(ip).and_then(|a| {
                    let family = range
                        .cidrs
                        .iter()
                        .any(|n| cidr::same_family(n, &ipnet::IpNet::from(a)));
                    (believe && family).then(|| cidr::contains_ip(&range.cidrs, &a))
                });
                ClusterIp {
                    ip: ip.into(),
                    in_range,
                }
            })
            .collect();
        for ip in cluster_ips.iter().filter(|i| i.in_range == Some(false)) {
            problem(
                "service-ip-outside-range",
                Severity::Error,
                format!(
                    "ClusterIP {} lies outside the service range {}",
                    ip.ip,
                    cidr::join(&range.cidrs)
                ),
            );
        }
        for ip in s
            .ips()
            .into_iter()
            .filter(|ip| cidr::parse_ip(ip).is_none())
        {
            problem(
                "service-invalid-ip",
                Severity::Error,
                format!("ClusterIP {ip:?} is not an IP address"),
            );
        }

        let kind = s.kind();
        let external_name = kind == "ExternalName";
        let selected: Vec<&WorkloadPod> = match s.selector() {
            Some(sel) if !external_name => self.pods.index.select(ns, sel),
            _ => vec![],
        };
        let ready_pods = selected.iter().filter(|p| p.ready).count();

        // Endpoints, each once, with the pod and node behind it.
        // Sized once: grown from empty, a Service's few endpoints cost a rehash or two each
        // (callgrind: `reserve_rehash` 17 M instructions over 10,000 Services).
        let addresses = eps().map(|(_, e)| e.addresses.len()).sum();
        let mut endpoints: Vec<EndpointView> = Vec::with_capacity(addresses);
        let mut seen = FastSet::with_capacity_and_hasher(addresses, Default::default());
        for (_, e) in eps() {
            let pod = e
                .target_ref
                .as_ref()
                .filter(|t| &*t.kind == "Pod")
                .map(|t| (t.namespace.as_deref().unwrap_or(ns), PodRef::from(&t.name)));
            for a in &e.addresses {
                if seen.insert((&**a, pod)) {
                    endpoints.push(EndpointView { ip: a, pod, e });
                }
            }
        }

        let ports: Vec<PortRow> = s
            .spec
            .ports
            .iter()
            .map(|sp| {
                let of_port = eps().filter_map(|(ports, e)| {
                    let p = ports
                        .iter()
                        .find(|p| port_name_eq(p.name.as_deref(), sp.name.as_deref()))?;
                    Some((p.port, e))
                });
                let (mut ready, mut serving, mut terminating, mut not_ready) = (0, 0, 0, 0);
                let mut resolved = Vec::new();
                for (num, e) in of_port {
                    let n = e.addresses.len().max(1);
                    let c = e.conditions;
                    match (c.ready(), c.serving(), c.terminating()) {
                        (true, _, _) => ready += n,
                        (false, true, true) => serving += n,
                        _ => not_ready += n,
                    }
                    terminating += n * usize::from(c.terminating());
                    if let Some(num) = num.filter(|n| !resolved.contains(n)) {
                        resolved.push(num);
                    }
                }
                resolved.sort();
                PortRow {
                    name: sp.name.as_deref().map(Into::into),
                    protocol: sp.protocol().into(),
                    port: sp.port,
                    target_port: sp.target().to_string(),
                    resolved,
                    node_port: sp.node_port.filter(|n| *n != 0),
                    ready,
                    serving,
                    terminating,
                    not_ready,
                }
            })
            .collect();

        if let (Some(sel), false) = (s.selector(), external_name) {
            // Written out only for a problem: 10,000 healthy Services need none.
            let sel_text = || {
                sel.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            };
            if self.pods_read && selected.is_empty() && self.pod_detail {
                let near = self.pods.index.closest(ns, sel);
                let detail = if near.is_empty() {
                    if self.pods.index.any_pod_in(ns) {
                        format!("selector {} matches no pod in namespace {ns}, and no pod there carries any of its labels", sel_text())
                    } else {
                        format!(
                            "selector {} matches no pod: namespace {ns} has no running pod at all",
                            sel_text()
                        )
                    }
                } else {
                    format!(
                        "selector {} matches no pod in namespace {ns}; closest: {}",
                        sel_text(),
                        near.join("; ")
                    )
                };
                problem("service-selector-matches-nothing", Severity::Error, detail);
            } else if self.pods_read
                && self.pod_detail
                && ready_pods == 0
                && !selected.is_empty()
                && !s.spec.publish_not_ready_addresses
            {
                let why: Vec<String> = selected
                    .iter()
                    .take(3)
                    .map(|p| {
                        format!(
                            "pod {}/{}: {}",
                            p.namespace,
                            p.name,
                            p.not_ready.as_deref().unwrap_or("not ready")
                        )
                    })
                    .collect();
                problem(
                    "service-no-ready-endpoints",
                    Severity::Error,
                    format!(
                        "{} pod(s) match {} but none is Ready: {}",
                        selected.len(),
                        sel_text(),
                        why.join("; ")
                    ),
                );
            }
            for sp in &s.spec.ports {
                let shown = port_label(sp);
                match sp.target() {
                    IntOrString::Str(name) if !selected.is_empty() => {
                        let declares = |ports: &Ports| {
                            ports.iter().any(|cp| {
                                cp.name.as_deref() == Some(name.as_str())
                                    && cp.protocol() == sp.protocol()
                            })
                        };
                        // The pods of one template share one port list, and come together:
                        // each list is searched once, not once a pod (perf: 2% of a report).
                        let mut last: Option<(usize, bool)> = None;
                        let mut lacks = |p: &&&WorkloadPod| {
                            let at = p.ports.address();
                            let d = match last {
                                Some((a, d)) if a == at => d,
                                _ => declares(&p.ports),
                            };
                            last = Some((at, d));
                            !d
                        };
                        let lacking: Vec<&&WorkloadPod> =
                            selected.iter().filter(&mut lacks).collect();
                        if !lacking.is_empty() {
                            let declared: Vec<String> = lacking[0]
                                .ports
                                .iter()
                                .map(|cp| {
                                    format!(
                                        "{} {}/{}",
                                        cp.name.as_deref().unwrap_or("(unnamed)"),
                                        cp.container_port,
                                        cp.protocol()
                                    )
                                })
                                .collect();
                            problem(
                                "service-target-port-missing",
                                Severity::Error,
                                format!(
                                    "port {shown} targets port name {name:?}, which {} of {} selected pod(s) do not declare (e.g. pod {}/{} declares {}): they get no endpoint for it",
                                    lacking.len(),
                                    selected.len(),
                                    lacking[0].namespace,
                                    lacking[0].name,
                                    if declared.is_empty() { "no ports".into() } else { declared.join(", ") }
                                ),
                            );
                        }
                    }
                    IntOrString::Int(n) => {
                        let declaring: Vec<&&WorkloadPod> =
                            selected.iter().filter(|p| !p.ports.is_empty()).collect();
                        let any = declaring
                            .iter()
                            .any(|p| p.ports.iter().any(|cp| cp.container_port == n));
                        if !declaring.is_empty() && !any {
                            let p = declaring[0];
                            let declared: Vec<String> = p
                                .ports
                                .iter()
                                .map(|cp| format!("{}/{}", cp.container_port, cp.protocol()))
                                .collect();
                            problem(
                                "service-target-port-undeclared",
                                Severity::Info,
                                format!("port {shown} targets {n}, which no selected pod declares (pod {}/{} declares {}): check that the container listens on {n}", p.namespace, p.name, declared.join(", ")),
                            );
                        }
                    }
                    _ => {}
                }
            }
        } else if !external_name
            && self.have_endpoints
            && endpoints.is_empty()
            && s.selector().is_none()
        {
            problem(
                "service-no-endpoints",
                Severity::Warning,
                "selects no pods and has no endpoints made by hand (no EndpointSlice or Endpoints): traffic to it goes nowhere".into(),
            );
        }

        // Endpoints whose address no pod holds any more.
        if self.pods_read {
            let stale: Vec<String> = endpoints
                .iter()
                .filter_map(|e| {
                    let (pns, pname) = e.pod?;
                    let ip = cidr::parse_ip(e.ip)?;
                    // Address first: it rules out all but one pod without comparing names.
                    let is_pod = |p: &WorkloadPod| {
                        p.ips.contains(&ip) && (pns, pname) == (&*p.namespace, (&p.name).into())
                    };
                    // The pod behind an endpoint is nearly always one the selector matches; a
                    // search of every pod's address (a cache miss a step) only for the rest.
                    if selected.iter().any(|p| is_pod(p)) {
                        return None;
                    }
                    let mut held = self.pods.holding(ip);
                    if held.clone().any(is_pod) {
                        return None;
                    }
                    match held.next() {
                        Some(p) => Some(format!(
                            "{} points at pod {pns}/{pname}, but {}/{} holds that address now",
                            e.ip, p.namespace, p.name
                        )),
                        None => Some(format!(
                            "{} points at pod {pns}/{pname}, and no pod holds that address",
                            e.ip
                        )),
                    }
                })
                .collect();
            if !stale.is_empty() {
                problem(
                    "endpoint-stale",
                    Severity::Warning,
                    format!(
                        "{} stale endpoint(s): {}",
                        stale.len(),
                        stale.iter().take(3).cloned().collect::<Vec<_>>().join("; ")
                    ),
                );
            }
        }
        for e in endpoints.iter().filter(|e| cidr::parse_ip(e.ip).is_none()) {
            problem(
                "endpoint-invalid-address",
                Severity::Warning,
                format!("endpoint address {:?} is not an IP address", e.ip),
            );
        }

        // NodePorts against the node-port range.
        if let Some((lo, hi)) = self.node_ports.1 {
            for sp in &s.spec.ports {
                if let Some(np) = sp.node_port.filter(|n| *n != 0 && (*n < lo || *n > hi)) {
                    problem(
                        "nodeport-outside-range",
                        Severity::Error,
                        format!(
                            "port {} has nodePort {np}, outside the node-port range {lo}-{hi}",
                            port_label(sp)
                        ),
                    );
                }
            }
        }

        // LoadBalancer status.
        let load_balancer = (kind == "LoadBalancer").then(|| {
            let ingress: Vec<String> = s
                .status
                .load_balancer
                .iter()
                .flat_map(|l| &l.ingress)
                .filter_map(|i| {
                    let v = i.ip.as_ref().or(i.hostname.as_ref())?.to_string();
                    Some(match &i.ip_mode {
                        Some(m) => format!("{v} ({m})"),
                        None => v,
                    })
                })
                .collect();
            LoadBalancerState {
                pending: ingress.is_empty(),
                ingress,
                class: s.spec.load_balancer_class.as_deref().map(Into::into),
            }
        });
        if let Some(lb) = load_balancer.as_ref().filter(|l| l.pending) {
            let waiting = s
                .status
                .conditions
                .iter()
                .find(|c| c.status == "False")
                .map(|c| {
                    format!(
                        "; condition {} {}: {}",
                        c.kind,
                        c.reason.as_deref().unwrap_or(""),
                        c.message.as_deref().unwrap_or("")
                    )
                })
                .unwrap_or_default();
            let class = lb
                .class
                .as_ref()
                .map(|c| {
                    format!(
                        " (loadBalancerClass {c}: only the implementation of that class serves it)"
                    )
                })
                .unwrap_or_default();
            let (severity, present) = if self.load_balancers.is_empty()
                && !self.load_balancers_unseen.is_empty()
            {
                // What could not be looked at may hold one: unknown, not absent.
                (
                    Severity::Warning,
                    format!(
                        "the load-balancer implementation is unknown: {}; none was found elsewhere; it still answers on its NodePorts",
                        self.load_balancers_unseen.join("; ")
                    ),
                )
            } else if self.load_balancers.is_empty() {
                (
                    Severity::Error,
                    "no load-balancer implementation found (no cloud provider on the nodes, no MetalLB, kube-vip, Cilium, k3s ServiceLB or other): it will stay pending; it still answers on its NodePorts".to_string(),
                )
            } else {
                let names: Vec<&str> = self
                    .load_balancers
                    .iter()
                    .map(|i| i.name.as_str())
                    .collect();
                (
                    Severity::Warning,
                    format!("implementations present: {}; see their events or logs for why none was assigned", names.join(", ")),
                )
            };
            problem(
                "loadbalancer-pending",
                severity,
                format!("EXTERNAL-IP <pending>{class}{waiting}: {present}"),
            );
        }

        if !s.spec.external_ips.is_empty() {
            let admission = match self.external_ips_denied {
                Some(true) => "the DenyServiceExternalIPs admission plugin is on, so these predate it",
                Some(false) => "the DenyServiceExternalIPs admission plugin is not enabled on the API server",
                None => "whether the DenyServiceExternalIPs admission plugin is on is unknown (the API server's flags are not visible)",
            };
            problem(
                "service-external-ips",
                Severity::Warning,
                format!("externalIPs {}: every node takes traffic for them, and anyone who may create Services can claim any address this way (CVE-2020-8554); {admission}", s.spec.external_ips.join(",")),
            );
        }

        // Local traffic policies: only nodes with a ready endpoint answer.
        let ready_nodes: Vec<&str> = {
            let mut v: Vec<&str> = endpoints
                .iter()
                .filter(|e| e.e.conditions.ready())
                .filter_map(|e| e.e.node_name.as_deref())
                .collect();
            v.sort();
            v.dedup();
            v
        };
        let etp_local = s.spec.external_traffic_policy.as_deref() == Some("Local")
            && matches!(kind, "NodePort" | "LoadBalancer");
        let itp_local = s.spec.internal_traffic_policy.as_deref() == Some("Local");
        if etp_local && self.have_endpoints {
            let total = self.c.nodes.len();
            let dropping = total.saturating_sub(ready_nodes.len());
            if dropping > 0 && total > 0 {
                problem(
                    "local-traffic-policy-nodes",
                    Severity::Info,
                    format!(
                        "externalTrafficPolicy Local: {} of {total} node(s) hold a ready endpoint{}; NodePort or load-balancer traffic reaching the other {dropping} is dropped by design",
                        ready_nodes.len(),
                        if ready_nodes.is_empty() { String::new() } else { format!(" ({})", ready_nodes.join(", ")) }
                    ),
                );
            }
        }
        let has_problems = !problems.is_empty();
        if !keep(has_problems) {
            return (has_problems, None);
        }
        let endpoints = endpoints
            .iter()
            .map(|v| EndpointRow {
                ip: v.ip.to_string(),
                pod: v.pod.map(|(ns, name)| format!("{ns}/{name}")),
                node: v.e.node_name.as_deref().map(str::to_string),
                ready: v.e.conditions.ready(),
                serving: v.e.conditions.serving(),
                terminating: v.e.conditions.terminating(),
            })
            .collect();
        let row = ServiceRow {
            namespace: ns.into(),
            name: s.metadata.name.to_string(),
            kind: kind.into(),
            cluster_ips,
            headless: s.headless(),
            external_name: s.spec.external_name.as_deref().map(Into::into),
            external_ips: s
                .spec
                .external_ips
                .iter()
                .map(|ip| ip.to_string())
                .collect(),
            load_balancer,
            selector: s.selector().map(|m| {
                m.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            }),
            selected_pods: selected.len(),
            ready_pods,
            ports,
            endpoints,
            session_affinity: s
                .spec
                .session_affinity
                .as_deref()
                .filter(|a| *a != "None")
                .map(Into::into),
            external_traffic_policy: s.spec.external_traffic_policy.as_deref().map(Into::into),
            internal_traffic_policy: s.spec.internal_traffic_policy.as_deref().map(Into::into),
            local_nodes: (etp_local || itp_local)
                .then(|| ready_nodes.into_iter().map(str::to_string).collect()),
            status: crate::report::Problem::status(&problems),
            problems,
            reached_by: vec![],
        };
        (has_problems, Some(row))
    }
}

/// An endpoint address as a Service row shows it, borrowed until the row is kept.
struct EndpointView<'a> {
    ip: &'a str,
    /// Namespace and name of the pod its targetRef names.
    pod: Option<(&'a str, PodRef<'a>)>,
    e: &'a Endpoint,
}

/// `http 80/TCP` or `80/TCP`.
fn port_label(sp: &ServicePort) -> String {
    match &sp.name {
        Some(n) if !n.is_empty() => format!("{n} {}/{}", sp.port, sp.protocol()),
        _ => format!("{}/{}", sp.port, sp.protocol()),
    }
}

/// `30000-32767`, `30000+2767` or a single port, as kube-apiserver reads it.
pub fn parse_port_range(s: &str) -> Option<(i32, i32)> {
    let s = s.trim();
    if let Some((a, b)) = s.split_once('-') {
        let (a, b) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
        return (a <= b).then_some((a, b));
    }
    if let Some((a, b)) = s.split_once('+') {
        let (a, b): (i32, i32) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
        return Some((a, a.checked_add(b)?));
    }
    let n = s.parse().ok()?;
    Some((n, n))
}

/// The API server's --service-node-port-range, from where its flags are visible.
pub(crate) fn node_port_range(c: &Cluster, p: &Platform) -> (NodePortRange, Option<(i32, i32)>) {
    let found = |raw: &str, ev: String| match parse_port_range(raw) {
        Some(r) => (
            NodePortRange {
                range: Some(format!("{}-{}", r.0, r.1)),
                status: "known".into(),
                evidence: ev,
            },
            Some(r),
        ),
        None => (
            NodePortRange {
                range: None,
                status: "unknown".into(),
                evidence: format!("{ev} (does not parse as a port range)"),
            },
            None,
        ),
    };
    let default = |ev: String| {
        (
            NodePortRange {
                range: Some("30000-32767".into()),
                status: "default".into(),
                evidence: ev,
            },
            Some(NODE_PORT_DEFAULT),
        )
    };
    for inv in components::invocations(c, "kube-apiserver") {
        if let Some(h) = inv.flag("service-node-port-range") {
            return found(&h.value, format!("{}: {}", inv.origin, h.text));
        }
        if inv.hidden().is_none() {
            return default(format!(
                "{}: no --service-node-port-range, the default 30000-32767",
                inv.origin
            ));
        }
    }
    if let Some((flavour, _)) = super::cni::k3s_flavour(c) {
        let key = format!("{flavour}.io/node-args");
        for n in &c.nodes {
            let Some(args) = n
                .metadata
                .annotations
                .get(&key)
                .and_then(|a| config::node_args(a).ok())
            else {
                continue;
            };
            if args.first().map(String::as_str) != Some("server") {
                continue;
            }
            let ev = format!("node {} annotation {key}", n.name());
            if let Some(h) = flags::last(&args, "service-node-port-range").or_else(|| {
                flags::passthrough(&args, "kube-apiserver-arg", "service-node-port-range")
            }) {
                return found(&h.value, format!("{ev}: {}", h.text));
            }
            return default(format!(
                "{ev} has no --service-node-port-range: the default 30000-32767"
            ));
        }
    }
    if let Some(o) = c
        .objects_of(&OPENSHIFT_NETWORK)
        .find(|o| o.metadata.name == "cluster")
    {
        if let Some(r) = o.spec.get("serviceNodePortRange").and_then(|v| v.as_str()) {
            return found(
                r,
                format!("network.config.openshift.io/cluster spec.serviceNodePortRange: {r}"),
            );
        }
    }
    (
        NodePortRange {
            range: None,
            status: "unknown".into(),
            evidence: format!(
                "the API server's flags are not visible ({}): NodePorts are not checked against a range",
                if p.name == "unknown" { "no kube-apiserver pod".into() } else { format!("platform {}", p.name) }
            ),
        },
        None,
    )
}

/// Whether the API server refuses new externalIPs, when its flags are visible.
fn external_ips_denied(c: &Cluster) -> Option<bool> {
    let inv = components::invocations(c, "kube-apiserver");
    let first = inv.first()?;
    let on = first.flag("enable-admission-plugins").is_some_and(|h| {
        h.value
            .split(',')
            .any(|p| p.trim() == "DenyServiceExternalIPs")
    });
    (on || first.hidden().is_none()).then_some(on)
}

/// What can give LoadBalancer Services an address, and where it could not be looked for
/// (failed reads: what would have been found there is unknown, not absent).
fn load_balancers(c: &Cluster, p: &Platform) -> (Vec<Implementation>, Vec<String>) {
    let mut unseen = Vec::new();
    let mut not_read = |e: Option<&CollectError>, read: &str, finds: &str| {
        if let Some(e) = e {
            unseen.push(format!(
                "{read} could not be read ({}), and {finds}",
                e.reason
            ));
        }
    };
    not_read(
        c.error_for(what::NODES),
        "nodes",
        "cloud providers are found by the nodes' providerID (k3s ServiceLB by their k3s arguments)",
    );
    not_read(
        c.error_for(what::PODS),
        "pods",
        "MetalLB, kube-vip, OpenELB, PureLB, k3s ServiceLB and the AWS Load Balancer Controller are found by their pods",
    );
    for ns in ["kube-system", "cilium"] {
        not_read(
            c.error_for(&what::config_map(ns, "cilium-config")),
            &format!("configmap {ns}/cilium-config"),
            "Cilium LB IPAM is found by it",
        );
    }
    let mut out = Vec::new();
    let mut add = |name: &str, evidence: String| {
        if !out.iter().any(|i: &Implementation| i.name == name) {
            out.push(Implementation {
                name: name.into(),
                evidence,
            });
        }
    };
    const CLOUDS: &[(&str, &str)] = &[
        ("aws://", "cloud-aws"),
        ("gce://", "cloud-gce"),
        ("azure://", "cloud-azure"),
        ("openstack://", "cloud-openstack"),
        ("digitalocean://", "cloud-digitalocean"),
        ("vsphere://", "cloud-vsphere"),
        ("hcloud://", "cloud-hetzner"),
        ("linode://", "cloud-linode"),
        ("oci://", "cloud-oracle"),
        ("ibm://", "cloud-ibm"),
        ("exoscale://", "cloud-exoscale"),
        ("scaleway://", "cloud-scaleway"),
    ];
    for n in &c.nodes {
        let Some(id) = n.spec.provider_id.as_deref() else {
            continue;
        };
        if let Some((_, name)) = CLOUDS.iter().find(|(prefix, _)| id.starts_with(prefix)) {
            add(name, format!("node {} providerID {id}: the cloud provider's controller serves LoadBalancer Services without a loadBalancerClass", n.name()));
        }
    }
    // Pods of the known implementations, full or reduced: those found by a name prefix, as
    // (prefix, implementation, what it does).
    const BY_NAME: [(&str, &str, &str); 3] = [
        (
            "kube-vip",
            "kube-vip",
            "kube-vip; addresses from its cloud provider's kubevip ConfigMap",
        ),
        ("svclb-", "k3s-servicelb", "k3s ServiceLB: node addresses"),
        (
            "aws-load-balancer-controller",
            "aws-load-balancer-controller",
            "serves loadBalancerClass service.k8s.aws/nlb",
        ),
    ];
    // A reduced pod with the namespace, label set and name stem (by address) of the one
    // before it tells nothing new, unless its name's tail could decide a prefix. Sound in any
    // order; fast because the pods of an owner are listed together. Walking every pod's
    // labels and name took a quarter of the Services lane, the analysis's longer (perf of a
    // 5,000-node report).
    let mut run = None;
    let reduced = c.workload_pods.iter().filter(move |w| {
        let stem = w.name.stem();
        let key = (w.namespace.address(), w.labels.address(), stem.address());
        if let Some((k, tail_decides)) = run {
            if k == key {
                return tail_decides;
            }
        }
        let tail_decides = BY_NAME
            .iter()
            .any(|(p, ..)| stem.len() < p.len() && p.starts_with(stem.as_str()));
        run = Some((key, tail_decides));
        true
    });
    let pods = c
        .pods
        .iter()
        .map(|p| {
            (
                p.metadata.ns(),
                PodRef::from(p.name()),
                p.metadata.label("app.kubernetes.io/name"),
            )
        })
        .chain(reduced.map(|w| {
            (
                &*w.namespace,
                PodRef::from(&w.name),
                w.labels.get("app.kubernetes.io/name"),
            )
        }));
    for (ns, name, app) in pods {
        let ev = || format!("pod {ns}/{name}");
        if ns == "metallb-system" || app == Some("metallb") {
            add(
                "metallb",
                format!("{} (MetalLB assigns from its IPAddressPools)", ev()),
            );
        } else if let Some((_, by, what)) = BY_NAME.iter().find(|(p, ..)| name.starts_with(p)) {
            add(by, format!("{} ({what})", ev()));
        } else if ns == "openelb-system" {
            add("openelb", ev());
        } else if ns == "purelb" {
            add("purelb", ev());
        }
    }
    if let Some(ds) = c
        .daemon_sets
        .iter()
        .find(|d| d.metadata.name.starts_with("svclb-"))
    {
        add(
            "k3s-servicelb",
            format!(
                "daemonset {}/{} (k3s ServiceLB: node addresses)",
                ds.metadata.ns(),
                ds.metadata.name
            ),
        );
    }
    let cilium = c
        .config_map("kube-system", "cilium-config")
        .or_else(|| c.config_map("cilium", "cilium-config"));
    if let Some(cm) = cilium.filter(|m| m.data.get("enable-lb-ipam").is_none_or(|v| v != "false")) {
        add("cilium-lb-ipam", format!("configmap {}/cilium-config: Cilium's LB IPAM assigns from CiliumLoadBalancerIPPools (none at all: it stays dormant)", cm.metadata.ns()));
    }
    if p.name == "minikube" {
        add("minikube-tunnel", format!("{}: `minikube tunnel`, while it runs, gives LoadBalancer Services their ClusterIP as ingress", p.evidence));
    }
    if let Some((flavour, node)) = super::cni::k3s_flavour(c) {
        let key = format!("{flavour}.io/node-args");
        let disabled = c.nodes.iter().any(|n| {
            n.metadata
                .annotations
                .get(&key)
                .is_some_and(|a| a.contains("servicelb"))
        });
        if flavour == "k3s" && !disabled {
            add(
                "k3s-servicelb",
                format!("node {node}: k3s runs ServiceLB unless started with --disable servicelb"),
            );
        }
    }
    (out, unseen)
}

#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct KubeletConfig {
    #[serde(default, rename = "clusterDNS")]
    cluster_dns: Vec<String>,
    #[serde(default)]
    cluster_domain: Option<String>,
}

/// The cluster DNS: the Service every pod's resolv.conf points at, what the kubelets are told,
/// and CoreDNS's configuration.
fn dns(c: &Cluster) -> Option<DnsAnswer> {
    let svc = c
        .services
        .iter()
        .find(|s| s.metadata.ns() == "kube-system" && s.metadata.name == "kube-dns")
        .or_else(|| {
            c.services.iter().find(|s| {
                s.metadata.ns() == "kube-system" && s.metadata.label("k8s-app") == Some("kube-dns")
            })
        })
        .or_else(|| {
            c.services
                .iter()
                .find(|s| s.metadata.ns() == "openshift-dns" && s.metadata.name == "dns-default")
        });
    let mut a = DnsAnswer {
        service: svc.map(|s| format!("{}/{}", s.metadata.ns(), s.metadata.name)),
        cluster_ip: svc.and_then(|s| s.ips().first().map(|s| s.to_string())),
        kubelet_evidence:
            "not visible in the API (no kubelet-config ConfigMap or distribution arguments)".into(),
        ..DnsAnswer::default()
    };
    if let Some(text) = c
        .config_map("kube-system", "kubelet-config")
        .and_then(|m| m.data.get("kubelet"))
    {
        match serde_saphyr::from_str::<KubeletConfig>(text) {
            Ok(k) => {
                a.kubelet_evidence = format!(
                    "configmap kube-system/kubelet-config: kubelet clusterDNS {}",
                    k.cluster_dns.join(",")
                );
                a.kubelet_cluster_dns = k.cluster_dns;
                a.cluster_domain = k.cluster_domain;
            }
            Err(e) => {
                a.kubelet_evidence =
                    format!("configmap kube-system/kubelet-config: kubelet does not parse: {e}")
            }
        }
    } else if let Some((flavour, _)) = super::cni::k3s_flavour(c) {
        let key = format!("{flavour}.io/node-args");
        let args = c.nodes.iter().find_map(|n| {
            Some((
                n.name(),
                config::node_args(n.metadata.annotations.get(&key)?).ok()?,
            ))
        });
        if let Some((node, args)) = args {
            match flags::last(&args, "cluster-dns") {
                Some(h) => {
                    a.kubelet_cluster_dns = vec![h.value.clone()];
                    a.kubelet_evidence = format!("node {node} annotation {key}: {}", h.text);
                }
                None => {
                    a.kubelet_cluster_dns = vec!["10.43.0.10".into()];
                    a.kubelet_evidence = format!("node {node} annotation {key} has no --cluster-dns: {flavour}'s default 10.43.0.10");
                }
            }
        }
    }
    if let Some(text) = c
        .config_map("kube-system", "coredns")
        .and_then(|m| m.data.get("Corefile"))
    {
        for line in text.lines().map(str::trim) {
            let mut w = line.split_whitespace();
            match w.next() {
                Some("kubernetes") => {
                    a.corefile_zones = w.take_while(|x| *x != "{").map(str::to_string).collect()
                }
                Some("forward") if a.corefile_forward.is_none() => {
                    let rest: Vec<&str> = w.take_while(|x| *x != "{").collect();
                    a.corefile_forward = Some(rest.join(" "));
                }
                _ => {}
            }
        }
    }
    if c.daemon_set("kube-system", "node-local-dns").is_some() {
        let bind = c
            .config_map("kube-system", "node-local-dns")
            .and_then(|m| m.data.get("Corefile"))
            .and_then(|t| {
                t.lines().find_map(|l| {
                    l.trim()
                        .strip_prefix("bind ")
                        .map(|b| b.split_whitespace().next().unwrap_or("").to_string())
                })
            })
            .filter(|b| cidr::parse_ip(b).is_some());
        a.node_local = Some(bind.unwrap_or_else(|| "169.254.20.10".into()));
    }
    (a.service.is_some() || !a.kubelet_cluster_dns.is_empty()).then_some(a)
}
