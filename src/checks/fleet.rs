//! Findings between the clusters of a fleet: ranges of two clusters that overlap, ranges
//! copied from one cluster to another, `--also-check` ranges against every cluster, and each
//! cluster's state (unreachable, its own findings counted, ranges it could not tell).
//!
//! Overlaps are found by one sort and sweep over every (cluster, kind, range) of the fleet,
//! never by comparing all pairs: CIDRs either nest or are disjoint, so after sorting by start
//! (widest first, IPv4 before IPv6) the stack of ranges enclosing the current one is exactly
//! the set it overlaps. Identical ranges are collapsed first, so a default copied into a
//! hundred clusters is one finding naming them all, not 4,950 pairs.

use super::finding;
use crate::report::{
    ClusterError, ErrorKind, FactStatus, Finding, FleetCluster, RangeKind, Severity,
};
use ipnet::IpNet;
use std::collections::BTreeMap;

/// How the `--also-check` ranges are named among the clusters.
pub const ALSO_CHECK: &str = "--also-check";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Range(RangeKind),
    AlsoCheck,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Range(k) => k.name(),
            Kind::AlsoCheck => "--also-check range",
        }
    }
}

/// One cluster (or the --also-check list) holding a range as one of its kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Holder {
    /// Index into the clusters; `usize::MAX` for --also-check.
    cluster: usize,
    kind: Kind,
}

const ALSO: usize = usize::MAX;

/// A distinct range and everyone holding it.
struct Group {
    net: IpNet,
    holders: Vec<Holder>,
}

/// Family, first and last address: IPv4 sorts before IPv6 and never meets it.
fn bounds(n: &IpNet) -> (bool, u128, u128) {
    match n {
        IpNet::V4(v) => (
            false,
            u32::from(v.network()) as u128,
            u32::from(v.broadcast()) as u128,
        ),
        IpNet::V6(v) => (true, u128::from(v.network()), u128::from(v.broadcast())),
    }
}

struct Fleet<'a> {
    clusters: &'a [FleetCluster],
    /// For each cluster, the first cluster with the same API server: duplicates are one
    /// cluster reached twice (two contexts, or a context and a saved file), not a conflict.
    same: Vec<usize>,
}

impl Fleet<'_> {
    fn name(&self, i: usize) -> &str {
        if i == ALSO {
            ALSO_CHECK
        } else {
            &self.clusters[i].name
        }
    }
    /// Whether a and b are two different clusters, at least one of them a real one.
    fn apart(&self, a: Holder, b: Holder) -> bool {
        match (a.cluster, b.cluster) {
            (ALSO, ALSO) => false,
            (ALSO, _) | (_, ALSO) => true,
            (x, y) => self.same[x] != self.same[y],
        }
    }
    fn names(&self, idx: &[usize]) -> String {
        idx.iter()
            .map(|&i| self.name(i))
            .collect::<Vec<_>>()
            .join(", ")
    }
    /// "alpha: pod range 10.64.0.0/10 (known, from kube-controller-manager-flag)".
    fn evidence(&self, h: Holder, net: &IpNet) -> String {
        let Kind::Range(k) = h.kind else {
            return format!("{ALSO_CHECK} {net}");
        };
        let c = &self.clusters[h.cluster];
        let how = match c.range(k) {
            Some(f) => {
                let status = match f.status {
                    FactStatus::Known => "known",
                    FactStatus::Inferred => "inferred from addresses in use: a lower bound",
                    FactStatus::Unknown => "unknown",
                };
                match f.chosen {
                    Some(s) => format!("{status}, from {}", s.name()),
                    None => status.to_string(),
                }
            }
            None => "unknown".into(),
        };
        format!("{}: {} {net} ({how})", c.name, k.name())
    }
}

fn sorted_unique(mut v: Vec<usize>) -> Vec<usize> {
    v.sort_unstable();
    v.dedup();
    v
}

/// The id, severity and hint of an overlap between two kinds of range.
fn classify(a: Kind, b: Kind) -> (&'static str, Severity, &'static str) {
    use RangeKind::*;
    let has = |k: Kind| a == k || b == k;
    if has(Kind::AlsoCheck) {
        (
            "fleet-also-check-overlap",
            Severity::Warning,
            "hosts in that range will be unreachable from the cluster's pods (or shadowed by its Services); renumber one side or route it explicitly",
        )
    } else if has(Kind::Range(Pod)) {
        (
            "fleet-pod-overlap",
            Severity::Error,
            "clusters whose pod range overlaps another cluster's ranges cannot be connected (VPC peering, VPN, Submariner, Cilium ClusterMesh) without NAT: one address would name two endpoints; give every cluster a pod range of its own",
        )
    } else if has(Kind::Range(Service)) {
        (
            "fleet-service-overlap",
            Severity::Warning,
            "overlapping service ranges break routing between the clusters' Service networks (Submariner without Globalnet refuses them; Cilium ClusterMesh tolerates them); a service range is fixed for a cluster's life, so choose distinct ones for new clusters",
        )
    } else {
        (
            "fleet-node-overlap",
            Severity::Warning,
            "harmless when the clusters share that network (one VPC or LAN); if they are separate networks to be peered or routed, the overlapping part is unreachable from one side",
        )
    }
}

/// Overlap findings between holders of `a` and holders of `b` (a contains b, or a == b),
/// one per pair of kinds, naming the clusters on each side.
fn between(
    fl: &Fleet,
    a: &Group,
    b: &Group,
    keep: impl Fn(Holder, Holder) -> bool,
    out: &mut Vec<Finding>,
) {
    let mut by: BTreeMap<(Kind, Kind), (Vec<Holder>, Vec<Holder>)> = BTreeMap::new();
    for &ha in &a.holders {
        for &hb in &b.holders {
            if fl.apart(ha, hb) && keep(ha, hb) {
                let e = by.entry((ha.kind, hb.kind)).or_default();
                e.0.push(ha);
                e.1.push(hb);
            }
        }
    }
    for ((ka, kb), (ha, hb)) in by {
        // The --also-check side is named second, whichever range is wider.
        let ((ka, na, ha), (kb, nb, hb)) = if ka == Kind::AlsoCheck {
            ((kb, &b.net, hb), (ka, &a.net, ha))
        } else {
            ((ka, &a.net, ha), (kb, &b.net, hb))
        };
        let ca = sorted_unique(ha.iter().map(|h| h.cluster).collect());
        let cb = sorted_unique(hb.iter().map(|h| h.cluster).collect());
        let (id, sev, hint) = classify(ka, kb);
        let message = if kb == Kind::AlsoCheck {
            format!(
                "{} {na} of {} overlaps {ALSO_CHECK} range {nb}",
                ka.name(),
                fl.names(&ca)
            )
        } else {
            format!(
                "{} {na} of {} overlaps {} {nb} of {}",
                ka.name(),
                fl.names(&ca),
                kb.name(),
                fl.names(&cb)
            )
        };
        let mut f = finding(id, sev, message, hint);
        f.ranges = vec![na.to_string(), nb.to_string()];
        let mut seen = Vec::new();
        for (h, n) in ha.iter().map(|h| (h, na)).chain(hb.iter().map(|h| (h, nb))) {
            if !seen.contains(h) {
                seen.push(*h);
                f.evidence.push(fl.evidence(*h, n));
            }
        }
        f.subjects = ca
            .iter()
            .chain(&cb)
            .filter(|&&i| i != ALSO)
            .map(|&i| fl.name(i).to_string())
            .fold(Vec::new(), |mut v, n| {
                if !v.contains(&n) {
                    v.push(n);
                }
                v
            });
        out.push(f);
    }
}

/// The same range held as the same kind by several clusters: a copied default.
fn shared(fl: &Fleet, g: &Group, out: &mut Vec<Finding>) {
    for kind in RangeKind::ALL {
        let holders: Vec<usize> = sorted_unique(
            g.holders
                .iter()
                .filter(|h| h.kind == Kind::Range(kind))
                .map(|h| h.cluster)
                .collect(),
        );
        let distinct = sorted_unique(holders.iter().map(|&i| fl.same[i]).collect());
        if distinct.len() < 2 {
            continue;
        }
        let (id, sev, hint) = match kind {
            RangeKind::Pod => (
                "fleet-shared-pod-range",
                Severity::Error,
                "the same pod range in several clusters is usually a copied default (10.244.0.0/16, 10.42.0.0/16, 192.168.0.0/16): these clusters can never be connected without NAT; give each new cluster its own range (kubeadm --pod-network-cidr, the CNI's pool, k3s --cluster-cidr)",
            ),
            RangeKind::Service => (
                "fleet-shared-service-range",
                Severity::Warning,
                "the same service range in several clusters is usually a copied default (10.96.0.0/12, 10.43.0.0/16): harmless for clusters that stay apart, a conflict for Submariner (without Globalnet) or any routing between their Service networks; choose distinct ranges for new clusters (--service-cluster-ip-range)",
            ),
            RangeKind::Node => (
                "fleet-node-overlap",
                Severity::Warning,
                "harmless when the clusters share that network (one VPC or LAN); if they are separate networks to be peered or routed, the same addresses exist on both sides",
            ),
        };
        let what = match kind {
            RangeKind::Node => "node network",
            RangeKind::Pod => "pod range",
            RangeKind::Service => "service range",
        };
        let mut f = finding(
            id,
            sev,
            format!(
                "{} clusters share the {what} {}: {}",
                holders.len(),
                g.net,
                fl.names(&holders)
            ),
            hint,
        );
        f.ranges = vec![g.net.to_string()];
        f.evidence = holders
            .iter()
            .map(|&i| {
                fl.evidence(
                    Holder {
                        cluster: i,
                        kind: Kind::Range(kind),
                    },
                    &g.net,
                )
            })
            .collect();
        f.subjects = holders.iter().map(|&i| fl.name(i).to_string()).collect();
        f.count = Some(holders.len());
        out.push(f);
    }
}

/// Every (cluster, kind, range) and --also-check range, collapsed by range and sorted for the
/// sweep: by family, then start, widest first.
fn groups(clusters: &[FleetCluster], also_check: &[IpNet]) -> Vec<Group> {
    let mut items: Vec<(IpNet, Holder)> = Vec::new();
    for (i, c) in clusters.iter().enumerate() {
        for kind in RangeKind::ALL {
            for net in c.range(kind).map(|f| f.cidrs.as_slice()).unwrap_or(&[]) {
                items.push((
                    net.trunc(),
                    Holder {
                        cluster: i,
                        kind: Kind::Range(kind),
                    },
                ));
            }
        }
    }
    for net in also_check {
        items.push((
            net.trunc(),
            Holder {
                cluster: ALSO,
                kind: Kind::AlsoCheck,
            },
        ));
    }
    items.sort_by_key(|(n, h)| {
        let (v6, s, _) = bounds(n);
        (v6, s, n.prefix_len(), *h)
    });
    items.dedup();
    let mut out: Vec<Group> = Vec::new();
    for (net, h) in items {
        match out.last_mut() {
            Some(g) if g.net == net => g.holders.push(h),
            _ => out.push(Group {
                net,
                holders: vec![h],
            }),
        }
    }
    out
}

/// Overlap and shared-range findings, in address order.
fn overlaps(fl: &Fleet, also_check: &[IpNet]) -> Vec<Finding> {
    let groups = groups(fl.clusters, also_check);
    let mut out = Vec::new();
    let mut stack: Vec<usize> = Vec::new();
    for (gi, g) in groups.iter().enumerate() {
        let (v6, start, _) = bounds(&g.net);
        while let Some(&top) = stack.last() {
            let (tv6, _, tend) = bounds(&groups[top].net);
            if tv6 != v6 || tend < start {
                stack.pop();
            } else {
                break;
            }
        }
        // Every range left on the stack encloses this one.
        for &e in &stack {
            between(fl, &groups[e], g, |_, _| true, &mut out);
        }
        shared(fl, g, &mut out);
        // The same range held as two different kinds (one cluster's pod range is another's
        // service range), each unordered pair once.
        between(fl, g, g, |a, b| a.kind < b.kind, &mut out);
        stack.push(gi);
    }
    out
}

fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {one}s")
    }
}

/// The fleet's findings, most severe first (address order within an id).
pub fn check(clusters: &[FleetCluster], also_check: &[IpNet]) -> Vec<Finding> {
    let mut out = Vec::new();
    let key = |c: &FleetCluster| {
        c.report
            .as_ref()
            .and_then(|r| r.source.server.clone())
            .or(c.server.clone())
            .map(|s| s.trim_end_matches('/').to_ascii_lowercase())
    };
    let mut same: Vec<usize> = (0..clusters.len()).collect();
    let mut first: BTreeMap<String, usize> = BTreeMap::new();
    for (i, c) in clusters.iter().enumerate() {
        if c.report.is_none() {
            continue;
        }
        if let Some(k) = key(c) {
            let f = *first.entry(k.clone()).or_insert(i);
            same[i] = f;
        }
    }
    let fl = Fleet { clusters, same };

    for c in clusters {
        if let Some(ClusterError { kind, message }) = &c.error {
            let hint = match kind {
                ErrorKind::Config => "fix the kubeconfig entry (kubectl config view --minify --context NAME): the named file, context, certificate or credential plugin",
                ErrorKind::Unreachable => "check the server address, the network path (VPN, bastion, firewall) and the CA; the other clusters are analysed without it",
                ErrorKind::Unauthorized => "the credentials were refused: renew the token or certificate (log in again with the cloud CLI or SSO)",
                ErrorKind::Forbidden => "grant the read-only ClusterRole in deploy/rbac.yaml to this user or service account, or run the in-cluster Job there and pass its report with --from",
                ErrorKind::Timeout => "the cluster did not answer within --timeout; raise it, or collect it separately (netcheck snapshot) and pass the file with --from",
                ErrorKind::File => "pass a file written by `netcheck snapshot -o FILE` or `netcheck report -o json`",
            };
            let mut f = finding(
                "fleet-cluster-error",
                Severity::Error,
                format!("{}: {}: {message}", c.name, kind.name()),
                hint,
            );
            f.subjects = vec![c.name.clone()];
            out.push(f);
        }
    }
    // Between clusters first: what the fleet view is for.
    out.extend(overlaps(&fl, also_check));
    for (i, c) in clusters.iter().enumerate() {
        if c.report.is_some() && fl.same[i] != i {
            let orig = &clusters[fl.same[i]];
            let mut f = finding(
                "fleet-duplicate-cluster",
                Severity::Info,
                format!(
                    "{} and {} are the same cluster (API server {}): not compared with each other",
                    orig.name,
                    c.name,
                    key(c).unwrap_or_default()
                ),
                "two contexts (or a context and a saved file) reach one cluster; list it once",
            );
            f.subjects = vec![orig.name.clone(), c.name.clone()];
            out.push(f);
        }
    }
    for c in clusters {
        let Some(r) = &c.report else { continue };
        let unknown: Vec<&str> = RangeKind::ALL
            .iter()
            .filter(|&&k| c.range(k).is_none_or(|f| f.cidrs.is_empty()))
            .map(|k| k.name())
            .collect();
        if !unknown.is_empty() {
            let mut f = finding(
                "fleet-range-unknown",
                Severity::Warning,
                format!(
                    "{}: {} unknown: overlaps with the other clusters cannot be ruled out",
                    c.name,
                    unknown.join(", ")
                ),
                "see the cluster's own report for the sources that were skipped and the permission they need; --node-cidr on a single run states a node network",
            );
            f.subjects = vec![c.name.clone()];
            f.evidence = r
                .skipped
                .iter()
                .take(3)
                .map(|s| format!("skipped {}: {}", s.what, s.reason))
                .collect();
            out.push(f);
        }
        if let Some(worst) = c.worst() {
            let count = |s: Severity| r.findings.iter().filter(|f| f.severity == s).count();
            let mut ids: Vec<&str> = Vec::new();
            for f in &r.findings {
                if !ids.contains(&f.id.as_str()) {
                    ids.push(&f.id);
                }
            }
            let counts = [
                (Severity::Error, "error"),
                (Severity::Warning, "warning"),
                (Severity::Info, "info"),
            ]
            .iter()
            .filter(|(s, _)| count(*s) > 0)
            .map(|(s, n)| plural(count(*s), n))
            .collect::<Vec<_>>()
            .join(", ");
            let mut f = finding(
                "fleet-cluster-findings",
                worst,
                format!("{}: {counts} of its own: {}", c.name, ids.join(", ")),
                "each is explained in the cluster's report (-o json: clusters[].report.findings, or netcheck report --context NAME)",
            );
            f.subjects = vec![c.name.clone()];
            f.count = Some(r.findings.len());
            out.push(f);
        }
    }
    out.sort_by_key(|f| std::cmp::Reverse(f.severity));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::*;

    fn fact(cidrs: &str) -> Fact {
        let (cidrs, _) = crate::cidr::parse_list(cidrs);
        Fact {
            status: if cidrs.is_empty() {
                FactStatus::Unknown
            } else {
                FactStatus::Known
            },
            cidrs,
            chosen: None,
            why: String::new(),
            sources: vec![],
        }
    }

    fn cluster(name: &str, server: &str, node: &str, pod: &str, svc: &str) -> FleetCluster {
        let cidrs = CidrAnswer {
            platform: Platform::default(),
            cni: Cni {
                name: "flannel".into(),
                ipam: "node-podcidrs".into(),
                evidence: String::new(),
                daemon_set: None,
            },
            node_network: fact(node),
            nodes: vec![],
            pod_cidr: fact(pod),
            service_cidr: fact(svc),
        };
        FleetCluster {
            name: name.into(),
            origin: Origin::Context,
            server: Some(server.into()),
            report: Some(Report {
                api_version: REPORT_API_VERSION.into(),
                kind: "Report".into(),
                command: "report".into(),
                source: crate::model::SourceInfo {
                    mode: "live".into(),
                    server: Some(server.into()),
                    ..Default::default()
                },
                server_version: None,
                cidrs: Some(cidrs),
                proxy: None,
                deployments: None,
                services: None,
                rules: None,
                trace: None,
                capacity: None,
                policies: None,
                reach: None,
                also_check: vec![],
                findings: vec![],
                skipped: vec![],
                summary: Summary::default(),
                explain: vec![],
            }),
            error: None,
        }
    }

    fn ids(f: &[Finding]) -> Vec<(&str, &[String])> {
        f.iter().map(|f| (f.id.as_str(), &f.ranges[..])).collect()
    }

    #[test]
    fn nested_ranges_of_three_clusters_each_pair_once() {
        // a's pod /8 holds b's pod /16 which holds c's service /24: a-b, a-c, b-c.
        let cs = [
            cluster(
                "a",
                "https://a",
                "192.168.1.0/24",
                "10.0.0.0/8",
                "172.16.0.0/16",
            ),
            cluster(
                "b",
                "https://b",
                "192.168.2.0/24",
                "10.1.0.0/16",
                "172.17.0.0/16",
            ),
            cluster(
                "c",
                "https://c",
                "192.168.3.0/24",
                "10.2.0.0/16",
                "10.1.5.0/24",
            ),
        ];
        let f = check(&cs, &[]);
        let pairs: Vec<_> = f.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(
            pairs,
            [
                "pod range 10.0.0.0/8 of a overlaps pod range 10.1.0.0/16 of b",
                "pod range 10.0.0.0/8 of a overlaps service range 10.1.5.0/24 of c",
                "pod range 10.1.0.0/16 of b overlaps service range 10.1.5.0/24 of c",
                "pod range 10.0.0.0/8 of a overlaps pod range 10.2.0.0/16 of c",
            ]
        );
        assert!(f.iter().all(|f| f.id == "fleet-pod-overlap"));
    }

    #[test]
    fn copied_defaults_are_one_finding_and_duplicates_are_not_conflicts() {
        let cs = [
            cluster(
                "a",
                "https://a",
                "10.0.0.0/24",
                "10.244.0.0/16",
                "10.96.0.0/12",
            ),
            cluster(
                "b",
                "https://b",
                "10.0.1.0/24",
                "10.244.0.0/16",
                "10.96.0.0/12",
            ),
            cluster(
                "c",
                "https://c/",
                "10.0.2.0/24",
                "10.244.0.0/16",
                "10.96.0.0/12",
            ),
            cluster(
                "a-again",
                "https://A",
                "10.0.0.0/24",
                "10.244.0.0/16",
                "10.96.0.0/12",
            ),
        ];
        let f = check(&cs, &[]);
        let shared: Vec<_> = f
            .iter()
            .filter(|f| f.id.starts_with("fleet-shared"))
            .collect();
        assert_eq!(shared.len(), 2, "{f:#?}");
        assert_eq!(shared[0].subjects, ["a", "b", "c", "a-again"]);
        assert!(f
            .iter()
            .any(|f| f.id == "fleet-duplicate-cluster" && f.subjects == ["a", "a-again"]));
        assert!(!f.iter().any(|f| f.id == "fleet-pod-overlap"));
    }

    #[test]
    fn cross_kind_identical_ranges_also_check_and_families() {
        let cs = [
            cluster(
                "a",
                "https://a",
                "fd00:1::/64",
                "10.244.0.0/16,fd00:10::/56",
                "10.96.0.0/12",
            ),
            cluster(
                "b",
                "https://b",
                "fd00:2::/64",
                "10.96.0.0/12",
                "fd00:10::/108",
            ),
        ];
        let also = crate::cidr::parse_list("10.244.7.0/24,fd00:3::/64").0;
        let f = check(&cs, &also);
        assert_eq!(
            ids(&f),
            [
                (
                    "fleet-pod-overlap",
                    &["10.96.0.0/12".to_string(), "10.96.0.0/12".to_string()][..]
                ),
                (
                    "fleet-pod-overlap",
                    &["fd00:10::/56".to_string(), "fd00:10::/108".to_string()][..]
                ),
                (
                    "fleet-also-check-overlap",
                    &["10.244.0.0/16".to_string(), "10.244.7.0/24".to_string()][..]
                ),
            ],
            "{f:#?}"
        );
        assert_eq!(
            f[0].message,
            "pod range 10.96.0.0/12 of b overlaps service range 10.96.0.0/12 of a"
        );
        assert_eq!(
            f[2].message,
            "pod range 10.244.0.0/16 of a overlaps --also-check range 10.244.7.0/24"
        );
        assert_eq!(f[2].subjects, ["a"]);
    }

    #[test]
    fn errors_unknown_ranges_and_own_findings() {
        let mut down = cluster("down", "https://d", "", "", "");
        down.report = None;
        down.error = Some(ClusterError {
            kind: ErrorKind::Unreachable,
            message: "cannot reach the API server https://d".into(),
        });
        let mut blind = cluster("blind", "https://x", "10.0.0.0/24", "", "10.96.0.0/12");
        let r = blind.report.as_mut().unwrap();
        r.findings = vec![
            finding("pod-service-overlap", Severity::Error, String::new(), ""),
            finding("podcidr-missing", Severity::Warning, String::new(), ""),
            finding("podcidr-missing", Severity::Warning, String::new(), ""),
        ];
        let f = check(&[down, blind], &[]);
        let got: Vec<_> = f
            .iter()
            .map(|f| (f.id.as_str(), f.severity, f.message.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "fleet-cluster-error",
                    Severity::Error,
                    "down: unreachable: cannot reach the API server https://d"
                ),
                (
                    "fleet-cluster-findings",
                    Severity::Error,
                    "blind: 1 error, 2 warnings of its own: pod-service-overlap, podcidr-missing"
                ),
                (
                    "fleet-range-unknown",
                    Severity::Warning,
                    "blind: pod range unknown: overlaps with the other clusters cannot be ruled out"
                ),
            ]
        );
    }

    #[test]
    fn sweep_scales_with_ranges_not_pairs() {
        // 2,000 clusters with disjoint ranges: no finding, and quick.
        let cs: Vec<_> = (0..2000u32)
            .map(|i| {
                let (a, b) = (i / 256, i % 256);
                cluster(
                    &format!("c{i}"),
                    &format!("https://c{i}"),
                    &format!("192.{a}.{b}.0/24"),
                    &format!("10.{a}.{b}.0/24"),
                    &format!("172.{}.{b}.0/24", 16 + a),
                )
            })
            .collect();
        let t = std::time::Instant::now();
        assert!(check(&cs, &[]).is_empty());
        assert!(t.elapsed() < std::time::Duration::from_secs(5));
    }
}
