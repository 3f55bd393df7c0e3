//! nftables mode: kube-proxy's `ip kube-proxy` / `ip6 kube-proxy` tables, read from
//! `nft list ruleset` (or `nft list table …`) and from `nft -j list ruleset`.
//!
//! How kube-proxy lays them out (pkg/proxy/nftables/proxier.go):
//! - the verdict map `service-ips` sends `IP . proto . port` (ClusterIPs, external IPs,
//!   load-balancer IPs) and `service-nodeports` sends `proto . port` (NodePorts) to a chain;
//! - a ClusterIP goes to `service-HASH-ns/name/proto/port` (`local-…` with
//!   internalTrafficPolicy Local), whose `numgen random mod N vmap { 0 : goto endpoint-…, … }`
//!   picks an `endpoint-HASH-ns/name/proto/port__IP/PORT` chain ending in `dnat to IP:PORT`;
//! - external IPs, load-balancer IPs and NodePorts go to `external-…`, which ends with
//!   `goto service-…` (Cluster policy) or, after short-circuit rules for pods and for the node
//!   itself, `goto local-…` (Local policy; no such rule when no endpoint is on this node);
//! - Service ports without endpoints are in `no-endpoint-services` / `no-endpoint-nodeports`,
//!   with `goto reject-chain` (no endpoints at all) or `drop` (Local policy and none here), the
//!   element's comment naming the Service port ("ns/name:port");
//! - `firewall-ips` holds the load-balancer IPs that have loadBalancerSourceRanges, the
//!   `cluster-ips` set every ClusterIP (kube-proxy 1.30 and later);
//! - each policy chain masquerades off-cluster clients with
//!   `ip daddr … ip saddr != POD-RANGE jump mark-for-masquerade` (detect-local by cluster CIDR).
//!
//! Neither form says whether an address that is not a ClusterIP is an external IP or a
//! load-balancer IP: it is a LoadBalancer entry when it is in `firewall-ips`, an ExternalIp
//! entry otherwise.

use super::{err, Backend, Entry, Frontend, Masquerade, ParseError, Programmed};
use crate::model::{FastMap, FastSet};
use ipnet::IpNet;
use serde_json::Value;
use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};

/// The maps kube-proxy dispatches with; elements of other maps are not kept.
const MAPS: [&str; 5] = [
    "service-ips",
    "service-nodeports",
    "no-endpoint-services",
    "no-endpoint-nodeports",
    "firewall-ips",
];
const MARK_MASQ: &str = "mark-for-masquerade";
/// Longest evidence text kept for an entry (JSON objects can be long).
const TEXT_MAX: usize = 400;

/// Notes, bounded: a hostile dump must not make one note per line.
pub(crate) struct Notes {
    list: Vec<String>,
    dropped: usize,
}

impl Notes {
    const MAX: usize = 40;

    pub(crate) fn new() -> Self {
        Notes {
            list: Vec::new(),
            dropped: 0,
        }
    }

    pub(crate) fn push(&mut self, note: String) {
        if self.list.len() < Self::MAX {
            self.list.push(note);
        } else {
            self.dropped += 1;
        }
    }

    pub(crate) fn finish(mut self) -> Vec<String> {
        if self.dropped > 0 {
            self.list.push(format!(
                "{} more notes like these were left out",
                self.dropped
            ));
        }
        self.list
    }
}

/// Cuts a long evidence text at a character boundary.
pub(crate) fn clip(s: &str) -> String {
    match s.char_indices().nth(TEXT_MAX) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Verdict {
    Goto(String),
    Jump(String),
    Drop,
    Other,
}

impl Verdict {
    fn target(&self) -> Option<&str> {
        match self {
            Verdict::Goto(t) | Verdict::Jump(t) => Some(t),
            _ => None,
        }
    }
    fn rejects(&self) -> bool {
        matches!(self, Verdict::Drop) || self.target().is_some_and(|t| t == "reject-chain")
    }
}

/// One element of a verdict map.
struct Elem {
    key: Vec<String>,
    comment: Option<String>,
    verdict: Option<Verdict>,
    line: usize,
    text: String,
}

/// What a kube-proxy chain does, as far as the entries need it.
#[derive(Default)]
struct Chain {
    /// `numgen random mod N vmap { … }` targets, by index.
    spread: Option<Vec<String>>,
    /// Unconditional goto/jump targets other than mark-for-masquerade, in rule order.
    tail: Vec<String>,
    /// Conditional gotos (the Local policy's short-circuit rules).
    short_circuit: bool,
    dnat: Option<(SocketAddr, usize, String)>,
    /// Targets of its conditional gotos and jumps.
    others: Vec<String>,
}

struct Table {
    label: String,
    maps: FastMap<&'static str, Vec<Elem>>,
    cluster_ips: Option<FastSet<IpAddr>>,
    chains: FastMap<String, Chain>,
    masq: Vec<(IpNet, usize, String)>,
}

impl Table {
    fn new(family: &str, name: &str) -> Self {
        Table {
            label: format!("{family} {name}"),
            maps: FastMap::default(),
            cluster_ips: None,
            chains: FastMap::default(),
            masq: Vec::new(),
        }
    }
}

/// What one rule says, from either form.
#[derive(Default)]
struct RuleFacts {
    spread: Option<Vec<(u64, String)>>,
    dnat: Option<Result<SocketAddr, String>>,
    /// The final verdict's target and whether the rule matches nothing before it.
    verdict: Option<(String, bool)>,
    /// `saddr != RANGE` of the rule.
    not_from: Option<String>,
}

/// Records a rule of `chain`; `text` gives the rule's evidence text, asked only when kept.
fn apply_rule<'x>(
    t: &mut Table,
    chain: &str,
    f: RuleFacts,
    line: usize,
    text: impl Fn() -> Cow<'x, str>,
    notes: &mut Notes,
) {
    if !t.chains.contains_key(chain) {
        t.chains.insert(chain.to_string(), Chain::default());
    }
    let Some(c) = t.chains.get_mut(chain) else {
        return;
    };
    if let Some(mut s) = f.spread {
        s.sort_by_key(|(i, _)| *i);
        if c.spread.is_none() {
            c.spread = Some(s.into_iter().map(|(_, t)| t).collect());
        }
    }
    match f.dnat {
        Some(Ok(addr)) if c.dnat.is_none() => c.dnat = Some((addr, line, clip(&text()))),
        Some(Err(e)) => notes.push(format!("line {line}: {e} in chain {chain}: rule skipped")),
        _ => {}
    }
    if let Some((target, unconditional)) = f.verdict {
        if target == MARK_MASQ {
            if let Some(range) = f.not_from {
                match parse_net(&range) {
                    Some(net) if t.masq.iter().any(|m| m.0 == net) => {}
                    Some(net) => {
                        // A JSON rule is one long object: keep the range in sight when clipped.
                        let mut ev = clip(&text());
                        if !ev.contains(&range) {
                            ev = format!("{ev} (saddr != {range}, jump {MARK_MASQ})");
                        }
                        t.masq.push((net, line, ev))
                    }
                    None => notes.push(format!(
                        "line {line}: masquerade rule with a source range netcheck does not read ({range})"
                    )),
                }
            }
        } else if unconditional {
            c.tail.push(target);
        } else {
            c.short_circuit = true;
            c.others.push(target);
        }
    }
}

fn parse_net(s: &str) -> Option<IpNet> {
    s.parse::<IpNet>()
        .ok()
        .or_else(|| s.parse::<IpAddr>().ok().map(IpNet::from))
}

fn proto_name(s: &str) -> Option<&'static str> {
    match s.trim_matches('"').to_ascii_lowercase().as_str() {
        "tcp" | "6" => Some("tcp"),
        "udp" | "17" => Some("udp"),
        "sctp" | "132" => Some("sctp"),
        _ => None,
    }
}

/// A port, numeric or as `nft -S` prints it (a service name, quoted).
fn port_number(s: &str) -> Option<u16> {
    let s = s.trim_matches('"');
    if let Ok(n) = s.parse() {
        return Some(n);
    }
    Some(match s {
        "domain" => 53,
        "http" => 80,
        "https" => 443,
        "ssh" => 22,
        "ntp" => 123,
        "snmp" => 161,
        "ldap" => 389,
        "ldaps" => 636,
        "mysql" => 3306,
        "postgresql" => 5432,
        "http-alt" => 8080,
        "webcache" => 8080,
        "diameter" => 3868,
        "kerberos" => 88,
        "imap" => 143,
        "smtp" => 25,
        "submission" => 587,
        "redis" => 6379,
        _ => return None,
    })
}

/// kube-proxy's service port name from a chain name: `service-HASH-ns/name/proto/port`
/// (or `endpoint-HASH-ns/name/proto/port__IP/PORT`) gives "ns/name:port", or "ns/name" when
/// the port has no name.
fn service_of_chain(chain: &str) -> Option<String> {
    let (_, rest) = chain.split_once('-')?;
    let (hash, base) = rest.split_once('-')?;
    if hash.len() != 8 {
        return None;
    }
    let base = base.split("__").next()?;
    let mut parts = base.splitn(4, '/');
    let (ns, name, _proto, port) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if ns.is_empty() || name.is_empty() {
        return None;
    }
    Some(if port.is_empty() {
        format!("{ns}/{name}")
    } else {
        format!("{ns}/{name}:{port}")
    })
}

// ---------------------------------------------------------------------------------------------
// From the tables to the entries.

fn key3(e: &Elem) -> Option<(IpAddr, &'static str, u16)> {
    match e.key.as_slice() {
        [ip, proto, port] => Some((ip.parse().ok()?, proto_name(proto)?, port_number(port)?)),
        _ => None,
    }
}

fn key2(e: &Elem) -> Option<(&'static str, u16)> {
    match e.key.as_slice() {
        [proto, port] => Some((proto_name(proto)?, port_number(port)?)),
        _ => None,
    }
}

/// The backends a chain named by a map sends to, and whether they are only this node's.
fn follow<'t>(
    t: &'t Table,
    target: &'t str,
    seen: &mut FastSet<&'t str>,
    notes: &mut Notes,
) -> (Vec<Backend>, bool) {
    let mut local = target.starts_with("local-");
    let mut policy = target;
    seen.insert(target);
    if target.starts_with("external-") {
        let Some(c) = t.chains.get(target) else {
            notes.push(format!("{}: chain {target} is not in the dump", t.label));
            return (Vec::new(), false);
        };
        local = c.short_circuit;
        match c.tail.last() {
            Some(p) => {
                policy = p;
                local |= p.starts_with("local-");
                seen.insert(p);
            }
            None => return (Vec::new(), local),
        }
    }
    let Some(c) = t.chains.get(policy) else {
        notes.push(format!("{}: chain {policy} is not in the dump", t.label));
        return (Vec::new(), local);
    };
    let endpoints: Vec<&'t str> = match (&c.spread, &c.dnat) {
        (Some(s), _) => s.iter().map(String::as_str).collect(),
        (None, Some(_)) => vec![policy],
        (None, None) => c.tail.iter().map(String::as_str).collect(),
    };
    if endpoints.is_empty() {
        notes.push(format!(
            "{}: chain {policy} has no `numgen … vmap`, dnat or goto netcheck reads: no endpoints \
             taken from it",
            t.label
        ));
    }
    let mut out = Vec::with_capacity(endpoints.len());
    for ep in endpoints {
        seen.insert(ep);
        match t.chains.get(ep).and_then(|c| c.dnat.as_ref()) {
            Some((addr, line, text)) => out.push(Backend {
                addr: *addr,
                probability: None,
                weight: None,
                chain: Some(ep.to_string()),
                line: *line,
                text: text.clone(),
            }),
            None if t.chains.contains_key(ep) => notes.push(format!(
                "{}: endpoint chain {ep} has no dnat rule: left out",
                t.label
            )),
            None => notes.push(format!(
                "{}: endpoint chain {ep} is not in the dump: left out",
                t.label
            )),
        }
    }
    (out, local)
}

fn resolve(tables: Vec<Table>, notes: &mut Notes) -> (Vec<Frontend>, Vec<Masquerade>) {
    let mut frontends = Vec::new();
    let mut masquerade: Vec<Masquerade> = Vec::new();
    let none: Vec<Elem> = Vec::new();
    for t in &tables {
        let map = |name: &str| t.maps.get(name).unwrap_or(&none);
        let firewall: FastSet<_> = map("firewall-ips").iter().filter_map(key3).collect();
        let mut seen: FastSet<&str> = FastSet::default();
        for e in map("firewall-ips") {
            if let Some(target) = e.verdict.as_ref().and_then(Verdict::target) {
                seen.insert(target);
            }
        }
        let mut cluster: FastSet<IpAddr> = t.cluster_ips.clone().unwrap_or_default();
        // (ip, protocol, port) -> index in frontends, to merge the no-endpoint entries
        let mut at: FastMap<(Option<IpAddr>, &'static str, u16), usize> = FastMap::default();

        for e in map("service-ips") {
            let Some((ip, proto, port)) = key3(e) else {
                notes.push(format!(
                    "line {}: service-ips element not read: {}",
                    e.line, e.text
                ));
                continue;
            };
            let Some(target) = e.verdict.as_ref().and_then(Verdict::target) else {
                notes.push(format!(
                    "line {}: service-ips element without a chain: {}",
                    e.line, e.text
                ));
                continue;
            };
            let entry = if target.starts_with("service-") || target.starts_with("local-") {
                cluster.insert(ip);
                Entry::ClusterIp
            } else if firewall.contains(&(ip, proto, port)) {
                Entry::LoadBalancer
            } else if cluster.contains(&ip) {
                Entry::ClusterIp
            } else {
                Entry::ExternalIp
            };
            let (backends, local_only) = follow(t, target, &mut seen, notes);
            at.insert((Some(ip), proto, port), frontends.len());
            frontends.push(Frontend {
                entry,
                service: service_of_chain(target),
                protocol: proto.to_string(),
                ip: Some(ip),
                port,
                chain: Some(target.to_string()),
                reject: false,
                backends,
                local_only,
                line: e.line,
                text: e.text.clone(),
            });
        }
        for e in map("service-nodeports") {
            let Some((proto, port)) = key2(e) else {
                notes.push(format!(
                    "line {}: service-nodeports element not read: {}",
                    e.line, e.text
                ));
                continue;
            };
            let Some(target) = e.verdict.as_ref().and_then(Verdict::target) else {
                notes.push(format!(
                    "line {}: service-nodeports element without a chain: {}",
                    e.line, e.text
                ));
                continue;
            };
            let (backends, local_only) = follow(t, target, &mut seen, notes);
            at.insert((None, proto, port), frontends.len());
            frontends.push(Frontend {
                entry: Entry::NodePort,
                service: service_of_chain(target),
                protocol: proto.to_string(),
                ip: None,
                port,
                chain: Some(target.to_string()),
                reject: false,
                backends,
                local_only,
                line: e.line,
                text: e.text.clone(),
            });
        }
        let mut guessed = 0;
        for (name, with_ip) in [
            ("no-endpoint-services", true),
            ("no-endpoint-nodeports", false),
        ] {
            for e in map(name) {
                let key = if with_ip {
                    key3(e).map(|(ip, proto, port)| (Some(ip), proto, port))
                } else {
                    key2(e).map(|(proto, port)| (None, proto, port))
                };
                let Some(key) = key else {
                    notes.push(format!(
                        "line {}: {name} element not read: {}",
                        e.line, e.text
                    ));
                    continue;
                };
                let Some(verdict) = e.verdict.as_ref().filter(|v| v.rejects()) else {
                    notes.push(format!(
                        "line {}: {name} element that neither rejects nor drops: {}",
                        e.line, e.text
                    ));
                    continue;
                };
                let drop = *verdict == Verdict::Drop;
                if let Some(&i) = at.get(&key) {
                    let f = &mut frontends[i];
                    f.reject = true;
                    f.local_only |= drop;
                    f.line = e.line;
                    f.text = e.text.clone();
                    if f.service.is_none() {
                        f.service = e.comment.clone();
                    }
                    continue;
                }
                let entry = match key.0 {
                    None => Entry::NodePort,
                    Some(ip) if cluster.contains(&ip) => Entry::ClusterIp,
                    Some(ip) if firewall.contains(&(ip, key.1, key.2)) => Entry::LoadBalancer,
                    Some(_) if t.cluster_ips.is_some() => Entry::ExternalIp,
                    Some(_) => {
                        guessed += 1;
                        if drop {
                            Entry::ExternalIp
                        } else {
                            Entry::ClusterIp
                        }
                    }
                };
                at.insert(key, frontends.len());
                frontends.push(Frontend {
                    entry,
                    service: e.comment.clone(),
                    protocol: key.1.to_string(),
                    ip: key.0,
                    port: key.2,
                    chain: None,
                    reject: true,
                    backends: Vec::new(),
                    local_only: drop,
                    line: e.line,
                    text: e.text.clone(),
                });
            }
        }
        if guessed > 0 {
            notes.push(format!(
                "{}: no cluster-ips set (kube-proxy before 1.30?): {guessed} entries without \
                 endpoints were taken as ClusterIPs when rejected and as external IPs when dropped",
                t.label
            ));
        }
        for (net, line, text) in &t.masq {
            if !masquerade.iter().any(|m| m.range == *net) {
                masquerade.push(Masquerade {
                    range: *net,
                    line: *line,
                    text: text.clone(),
                });
            }
        }
        // Chains of Service ports nothing leads to: left behind (kube-proxy flushes a stale
        // chain and deletes it a second later) or a dump cut short.
        for c in t.chains.values() {
            let spread = c.spread.iter().flatten();
            seen.extend(spread.chain(&c.tail).chain(&c.others).map(String::as_str));
        }
        let mut stale: Vec<&str> = t
            .chains
            .keys()
            .filter(|n| n.contains('/') && !seen.contains(n.as_str()))
            .map(String::as_str)
            .collect();
        if !stale.is_empty() {
            stale.sort_unstable();
            let shown: Vec<&str> = stale.iter().take(3).copied().collect();
            notes.push(format!(
                "{}: {} Service chains no map or rule leads to (left over, not entries): {}{}",
                t.label,
                stale.len(),
                shown.join(", "),
                if stale.len() > 3 { ", …" } else { "" }
            ));
        }
    }
    frontends.sort_by_key(|f| f.line);
    (frontends, masquerade)
}

fn finish(tables: Vec<Table>, mut notes: Notes, lines: usize, kube_lines: usize) -> Programmed {
    if tables.is_empty() {
        notes.push(
            "no `ip kube-proxy` or `ip6 kube-proxy` table in the dump: kube-proxy is not in \
             nftables mode on this node, or the dump is of other tables"
                .to_string(),
        );
    }
    let (frontends, masquerade) = resolve(tables, &mut notes);
    Programmed {
        frontends,
        masquerade,
        kube_lines,
        lines,
        notes: notes.finish(),
    }
}

// ---------------------------------------------------------------------------------------------
// `nft list ruleset`

/// Splits a rule into words, a quoted string being one word.
fn tokens(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += 1;
            }
            i = (i + 1).min(b.len());
        } else {
            while i < b.len() && !b[i].is_ascii_whitespace() {
                i += 1;
            }
        }
        out.push(&s[start..i]);
    }
    out
}

/// `{` minus `}` outside quoted strings.
fn balance(s: &str) -> i64 {
    let mut quoted = false;
    let mut n = 0;
    for b in s.bytes() {
        match b {
            b'"' => quoted = !quoted,
            b'{' if !quoted => n += 1,
            b'}' if !quoted => n -= 1,
            _ => {}
        }
    }
    n
}

/// `nft -a` ends lines with `# handle N`.
fn strip_handle(s: &str) -> &str {
    match s.rfind("# handle ") {
        Some(i) if s[i + 9..].trim().bytes().all(|b| b.is_ascii_digit()) => s[..i].trim_end(),
        _ => s,
    }
}

fn text_rule(stmt: &str) -> RuleFacts {
    let mut f = RuleFacts::default();
    let all = tokens(stmt);
    // counters and comments say nothing of where the packet goes
    let mut w: Vec<&str> = Vec::with_capacity(all.len());
    let mut i = 0;
    while i < all.len() {
        match all[i] {
            "counter" => {
                i += 1;
                if all.get(i) == Some(&"packets") {
                    i += 4;
                }
            }
            "comment" => i += 2,
            _ => {
                w.push(all[i]);
                i += 1;
            }
        }
    }
    if let Some(p) = w.iter().position(|t| *t == "numgen") {
        // the `numgen` word itself, not a chain name containing it
        let at = stmt
            .match_indices("numgen")
            .map(|(i, _)| i)
            .find(|&i| i == 0 || stmt.as_bytes()[i - 1].is_ascii_whitespace())
            .unwrap_or(0);
        let rest = &stmt[at..];
        if w[p..].contains(&"vmap") {
            if let (Some(a), Some(b)) = (rest.find('{'), rest.rfind('}')) {
                let mut s = Vec::new();
                for item in rest[a + 1..b.max(a + 1)].split(',') {
                    let t: Vec<&str> = item.split_whitespace().collect();
                    if let [idx, ":", "goto" | "jump", target] = t.as_slice() {
                        if let Ok(idx) = idx.parse() {
                            s.push((idx, target.to_string()));
                        }
                    }
                }
                f.spread = Some(s);
            }
        }
    }
    if let Some(p) = w.iter().position(|t| *t == "dnat") {
        let mut q = p + 1;
        if matches!(w.get(q), Some(&"ip") | Some(&"ip6")) {
            q += 1;
        }
        if w.get(q) == Some(&"to") {
            f.dnat = Some(match w.get(q + 1) {
                Some(a) => a
                    .parse()
                    .map_err(|_| format!("dnat to {a}: not an address and port")),
                None => Err("dnat without an address".to_string()),
            });
        }
    }
    if let [.., "goto" | "jump", target] = w.as_slice() {
        f.verdict = Some((target.to_string(), w.len() == 2));
    }
    if let Some(p) = w.windows(2).position(|p| p[0] == "saddr" && p[1] == "!=") {
        if let Some(v) = w.get(p + 2) {
            f.not_from = Some(v.to_string());
        }
    }
    f
}

/// Splits `elements = { a, b : c, … }` (over several lines) into elements, each with the
/// line it starts on.
fn elements<'a>(segs: &[(usize, &'a str)]) -> Vec<(usize, &'a str, String)> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut quoted = false;
    let mut cur = String::new();
    let mut start: Option<(usize, &'a str)> = None;
    'outer: for &(line, seg) in segs {
        for ch in seg.chars() {
            if depth == 0 {
                if ch == '{' {
                    depth = 1;
                }
                continue;
            }
            match ch {
                '"' => quoted = !quoted,
                '{' if !quoted => depth += 1,
                '}' if !quoted => {
                    depth -= 1;
                    if depth == 0 {
                        if let Some((l, s)) = start.take() {
                            out.push((l, s, std::mem::take(&mut cur)));
                        }
                        break 'outer;
                    }
                }
                ',' if !quoted && depth == 1 => {
                    if let Some((l, s)) = start.take() {
                        out.push((l, s, std::mem::take(&mut cur)));
                    }
                    cur.clear();
                    continue;
                }
                _ => {}
            }
            if start.is_none() && !ch.is_whitespace() {
                start = Some((line, seg));
            }
            if start.is_some() {
                cur.push(ch);
            }
        }
        if start.is_some() {
            cur.push(' ');
        }
    }
    out
}

/// `KEY [comment "C"] [other attributes] [: VERDICT]`.
fn text_elem(s: &str, is_map: bool) -> (Vec<String>, Option<String>, Option<Verdict>) {
    let mut s = s.trim().to_string();
    let mut comment = None;
    if let Some(i) = s.find("comment \"") {
        let from = i + 9;
        let end = s[from..].find('"').map(|j| from + j).unwrap_or(s.len());
        comment = Some(s[from..end].to_string());
        s.replace_range(i..(end + 1).min(s.len()), "");
    }
    let (key, verdict) = match (is_map, s.find(" : ")) {
        (true, Some(i)) => (&s[..i], Some(&s[i + 3..])),
        _ => (s.as_str(), None),
    };
    let key = key
        .split(" . ")
        .filter_map(|c| c.split_whitespace().next().map(str::to_string))
        .collect();
    let verdict = verdict.map(|v| {
        let t: Vec<&str> = v.split_whitespace().collect();
        match t.as_slice() {
            ["goto", x, ..] => Verdict::Goto(x.to_string()),
            ["jump", x, ..] => Verdict::Jump(x.to_string()),
            ["drop", ..] => Verdict::Drop,
            _ => Verdict::Other,
        }
    });
    (key, comment, verdict)
}

enum Block {
    /// A table: its index in `tables` when it is kube-proxy's.
    Table(Option<usize>),
    Chain(String),
    Set(String),
    Map(String),
    Other,
}

struct Frame {
    block: Block,
    line: usize,
    label: String,
}

struct TextParser<'a> {
    tables: Vec<Table>,
    notes: Notes,
    stack: Vec<Frame>,
    pending: Option<(Vec<(usize, &'a str)>, i64)>,
    kube_lines: usize,
    /// Chains of other tables named like iptables-mode kube-proxy's, by table.
    iptables_chains: Vec<(String, usize, Vec<String>)>,
    unknown: usize,
    tables_seen: usize,
}

impl<'a> TextParser<'a> {
    fn new() -> Self {
        TextParser {
            tables: Vec::new(),
            notes: Notes::new(),
            stack: Vec::new(),
            pending: None,
            kube_lines: 0,
            iptables_chains: Vec::new(),
            unknown: 0,
            tables_seen: 0,
        }
    }

    fn kube(&self) -> Option<usize> {
        match self.stack.first() {
            Some(Frame {
                block: Block::Table(k),
                ..
            }) => *k,
            _ => None,
        }
    }

    fn line(&mut self, n: usize, raw: &'a str) {
        let l = strip_handle(raw.trim());
        let in_kube = self.kube().is_some();
        if let Some((segs, depth)) = self.pending.as_mut() {
            segs.push((n, l));
            *depth += balance(l);
            if in_kube && !l.is_empty() {
                self.kube_lines += 1;
            }
            if *depth <= 0 {
                let (segs, _) = self.pending.take().unwrap_or_default();
                self.statement(&segs);
            }
            return;
        }
        if l.is_empty() || l.starts_with('#') {
            return;
        }
        if in_kube {
            self.kube_lines += 1;
        }
        match self.stack.len() {
            0 => {
                let w = tokens(l);
                if let ["table", family, name, "{", ..] = w.as_slice() {
                    self.tables_seen += 1;
                    let name = name.trim_matches('"');
                    let kube = if name == "kube-proxy" {
                        self.kube_lines += 1;
                        self.tables.push(Table::new(family, name));
                        Some(self.tables.len() - 1)
                    } else {
                        None
                    };
                    let label = format!("table {family} {name}");
                    if balance(l) > 0 {
                        self.stack.push(Frame {
                            block: Block::Table(kube),
                            line: n,
                            label,
                        });
                    }
                } else {
                    self.unknown += 1;
                    if self.unknown <= 3 {
                        self.notes.push(format!(
                            "line {n}: not part of a table, skipped: {}",
                            clip(l)
                        ));
                    }
                }
            }
            1 => {
                if l == "}" {
                    self.stack.pop();
                    return;
                }
                let b = balance(l);
                if b <= 0 {
                    return; // a table attribute: comment, flags
                }
                let w = tokens(l);
                let name = w
                    .get(1)
                    .map(|s| s.trim_matches('"').to_string())
                    .unwrap_or_default();
                let block = match w.first() {
                    Some(&"chain") => {
                        if let Some(k) = self.kube() {
                            self.tables[k].chains.entry(name.clone()).or_default();
                        } else if name.starts_with("KUBE-") {
                            self.iptables_chain(&name);
                        }
                        Block::Chain(name.clone())
                    }
                    Some(&"set") => Block::Set(name.clone()),
                    Some(&"map") => Block::Map(name.clone()),
                    _ => Block::Other,
                };
                let label = format!("{} {name}", w.first().unwrap_or(&""));
                self.stack.push(Frame {
                    block,
                    line: n,
                    label,
                });
                if b > 1 {
                    self.pending = Some((vec![(n, "")], b - 1));
                }
            }
            _ => {
                if l == "}" {
                    self.stack.pop();
                    return;
                }
                let b = balance(l);
                if b > 0 {
                    self.pending = Some((vec![(n, l)], b));
                } else if b < 0 {
                    self.notes
                        .push(format!("line {n}: unbalanced braces, skipped: {}", clip(l)));
                } else {
                    self.statement(&[(n, l)]);
                }
            }
        }
    }

    fn iptables_chain(&mut self, name: &str) {
        let Some(table) = self.stack.first() else {
            return;
        };
        let label = table.label.clone();
        let line = table.line;
        match self.iptables_chains.last_mut() {
            Some((l, _, names)) if *l == label => names.push(name.to_string()),
            _ => self
                .iptables_chains
                .push((label, line, vec![name.to_string()])),
        }
    }

    fn statement(&mut self, segs: &[(usize, &'a str)]) {
        let Some(k) = self.kube() else { return };
        let Some((line, first)) = segs.first().copied() else {
            return;
        };
        let t = &mut self.tables[k];
        match self.stack.last().map(|f| &f.block) {
            Some(Block::Chain(chain)) => {
                let stmt: Cow<str> = if segs.len() == 1 {
                    Cow::Borrowed(first)
                } else {
                    Cow::Owned(segs.iter().map(|(_, s)| *s).collect::<Vec<_>>().join(" "))
                };
                if matches!(
                    stmt.split_whitespace().next(),
                    Some("type") | Some("comment") | Some("policy")
                ) {
                    return; // the chain's own attributes
                }
                let facts = text_rule(&stmt);
                let chain = chain.clone();
                apply_rule(
                    t,
                    &chain,
                    facts,
                    line,
                    || Cow::Borrowed(first),
                    &mut self.notes,
                );
            }
            Some(Block::Map(name)) => {
                let Some(&wanted) = MAPS.iter().find(|m| **m == name.as_str()) else {
                    return;
                };
                if !first.starts_with("elements") {
                    return;
                }
                let list = t.maps.entry(wanted).or_default();
                for (l, seg, s) in elements(segs) {
                    let (key, comment, verdict) = text_elem(&s, true);
                    list.push(Elem {
                        key,
                        comment,
                        verdict,
                        line: l,
                        text: clip(seg.trim()),
                    });
                }
            }
            Some(Block::Set(name)) if name == "cluster-ips" => {
                let set = t.cluster_ips.get_or_insert_with(FastSet::default);
                if !first.starts_with("elements") {
                    return;
                }
                for (_, _, s) in elements(segs) {
                    if let Ok(ip) = s.trim().parse() {
                        set.insert(ip);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Reads `nft list ruleset` (or `nft list table …`) output.
pub fn parse_text(text: &str) -> Result<Programmed, ParseError> {
    let mut p = TextParser::new();
    let mut n = 0;
    for (i, raw) in text.lines().enumerate() {
        n = i + 1;
        p.line(n, raw);
    }
    if let Some((segs, _)) = &p.pending {
        let start = segs.first().map(|s| s.0).unwrap_or(n);
        let inside = p.stack.last().map(|f| f.label.clone()).unwrap_or_default();
        return Err(err(
            start,
            format!("the dump ends inside a statement of {inside} begun here: truncated, or not nft output"),
        ));
    }
    if let Some(f) = p.stack.last() {
        let table = p.stack.first().map(|t| t.label.clone()).unwrap_or_default();
        let what = if p.stack.len() > 1 {
            format!("{} of {table}", f.label)
        } else {
            table
        };
        return Err(err(
            n,
            format!(
                "the dump ends inside {what} (opened at line {}): truncated",
                f.line
            ),
        ));
    }
    if p.unknown > 3 {
        p.notes.push(format!(
            "{} lines outside any table were skipped in all",
            p.unknown
        ));
    }
    if p.tables_seen == 0 && p.unknown > 0 {
        return Err(err(
            1,
            "not nft list ruleset output: no `table FAMILY NAME {` in it",
        ));
    }
    for (table, line, names) in &p.iptables_chains {
        let shown: Vec<&str> = names.iter().take(3).map(String::as_str).collect();
        p.notes.push(format!(
            "line {line}: {table} has iptables-mode kube-proxy chains ({}{}): iptables rules \
             beside nftables mode (read them with iptables-save)",
            shown.join(", "),
            if names.len() > 3 { ", …" } else { "" }
        ));
    }
    Ok(finish(p.tables, p.notes, n, p.kube_lines))
}

// ---------------------------------------------------------------------------------------------
// `nft -j list ruleset`

/// Positions of line starts, to turn a byte offset into a line.
struct LineIndex(Vec<usize>);

impl LineIndex {
    fn new(text: &str) -> Self {
        LineIndex(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i)
                .collect(),
        )
    }
    fn line(&self, offset: usize) -> usize {
        self.0.partition_point(|&p| p < offset) + 1
    }
}

type Member = (Option<(usize, usize)>, usize, usize);

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

fn string_end(b: &[u8], mut i: usize) -> Option<usize> {
    i += 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

fn value_end(b: &[u8], i: usize) -> Option<usize> {
    match b.get(i)? {
        b'"' => string_end(b, i),
        b'[' | b'{' => {
            let mut depth = 0usize;
            let mut j = i;
            while j < b.len() {
                match b[j] {
                    b'"' => {
                        j = string_end(b, j)?;
                        continue;
                    }
                    b'[' | b'{' => depth += 1,
                    b']' | b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            None
        }
        _ => {
            let mut j = i;
            while j < b.len() && !matches!(b[j], b',' | b']' | b'}') && !b[j].is_ascii_whitespace()
            {
                j += 1;
            }
            Some(j)
        }
    }
}

/// The members of the JSON array or object at `start` (without recursion): each with its
/// key's range (objects) and its value's range.
fn members(b: &[u8], start: usize) -> Option<Vec<Member>> {
    let close = match b.get(start)? {
        b'[' => b']',
        b'{' => b'}',
        _ => return None,
    };
    let mut out = Vec::new();
    let mut i = skip_ws(b, start + 1);
    if b.get(i) == Some(&close) {
        return Some(out);
    }
    loop {
        let key = if close == b'}' {
            if b.get(i) != Some(&b'"') {
                return None;
            }
            let e = string_end(b, i)?;
            let k = (i + 1, e - 1);
            i = skip_ws(b, e);
            if b.get(i) != Some(&b':') {
                return None;
            }
            i = skip_ws(b, i + 1);
            Some(k)
        } else {
            None
        };
        let end = value_end(b, i)?;
        out.push((key, i, end));
        i = skip_ws(b, end);
        match b.get(i)? {
            b',' => i = skip_ws(b, i + 1),
            c if *c == close => return Some(out),
            _ => return None,
        }
    }
}

fn member<'m>(b: &[u8], ms: &'m [Member], key: &str) -> Option<&'m Member> {
    ms.iter()
        .find(|(k, _, _)| k.is_some_and(|(s, e)| &b[s..e] == key.as_bytes()))
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn json_verdict(v: &Value) -> Option<Verdict> {
    let o = v.as_object()?;
    let (k, val) = o.iter().next()?;
    let target = || {
        val.get("target")
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    Some(match k.as_str() {
        "goto" => Verdict::Goto(target()?),
        "jump" => Verdict::Jump(target()?),
        "drop" => Verdict::Drop,
        _ => Verdict::Other,
    })
}

/// A map or set element's key: `{"concat": [...]}`, `{"elem": {"val": …, "comment": …}}`
/// or a plain value.
fn json_key(v: &Value) -> (Vec<String>, Option<String>) {
    if let Some(e) = v.get("elem") {
        let comment = e.get("comment").and_then(Value::as_str).map(str::to_string);
        let (key, _) = json_key(e.get("val").unwrap_or(&Value::Null));
        return (key, comment);
    }
    if let Some(parts) = v.get("concat").and_then(Value::as_array) {
        return (parts.iter().filter_map(scalar).collect(), None);
    }
    (scalar(v).into_iter().collect(), None)
}

fn json_rule(expr: &[Value]) -> RuleFacts {
    let mut f = RuleFacts::default();
    let mut conditions = 0;
    for e in expr {
        let Some((k, v)) = e.as_object().and_then(|o| o.iter().next()) else {
            continue;
        };
        match k.as_str() {
            "counter" => {}
            "vmap" => {
                conditions += 1;
                if v.get("key").and_then(|k| k.get("numgen")).is_some() {
                    let set = v
                        .get("data")
                        .and_then(|d| d.get("set"))
                        .and_then(Value::as_array);
                    let mut s = Vec::new();
                    for item in set.into_iter().flatten() {
                        if let Some([idx, verdict]) = item.as_array().map(Vec::as_slice) {
                            let target =
                                json_verdict(verdict).and_then(|v| v.target().map(str::to_string));
                            if let (Some(i), Some(t)) = (idx.as_u64(), target) {
                                s.push((i, t));
                            }
                        }
                    }
                    f.spread = Some(s);
                }
            }
            "dnat" => {
                conditions += 1;
                let addr = v.get("addr").and_then(Value::as_str);
                let port = v.get("port").and_then(Value::as_u64);
                f.dnat = Some(match (addr.and_then(|a| a.parse::<IpAddr>().ok()), port) {
                    (Some(ip), Some(p)) if p <= u16::MAX as u64 => {
                        Ok(SocketAddr::new(ip, p as u16))
                    }
                    _ => Err(format!(
                        "dnat to {}: not an address and port",
                        clip(&v.to_string())
                    )),
                });
            }
            "goto" | "jump" => {
                if let Some(t) = v.get("target").and_then(Value::as_str) {
                    f.verdict = Some((t.to_string(), conditions == 0));
                }
            }
            "match" => {
                conditions += 1;
                let left = v.get("left");
                let saddr = left
                    .and_then(|l| l.get("payload"))
                    .is_some_and(|p| p.get("field").and_then(Value::as_str) == Some("saddr"));
                if saddr && v.get("op").and_then(Value::as_str) == Some("!=") {
                    let right = v.get("right").unwrap_or(&Value::Null);
                    f.not_from = match right.get("prefix") {
                        Some(p) => {
                            let a = p.get("addr").and_then(Value::as_str).unwrap_or("");
                            let len = p.get("len").and_then(Value::as_u64).unwrap_or(0);
                            Some(format!("{a}/{len}"))
                        }
                        None => Some(scalar(right).unwrap_or_else(|| right.to_string())),
                    };
                }
            }
            _ => conditions += 1,
        }
    }
    f
}

/// Reads `nft -j list ruleset` output. Lines are those of the JSON text (all 1 for nft's own
/// one-line output); `text` is the JSON of the map element or rule; `kube_lines` counts
/// kube-proxy's objects (table, chains, rules, sets, maps).
pub fn parse_json(text: &str) -> Result<Programmed, ParseError> {
    let b = text.as_bytes();
    let lines = LineIndex::new(text);
    let start = skip_ws(b, 0);
    let not_json = |what: &str| err(lines.line(start), format!("nft -j output: {what}"));
    let top = members(b, start).ok_or_else(|| not_json("not a JSON object, or cut short"))?;
    let (_, arr, _) =
        *member(b, &top, "nftables").ok_or_else(|| not_json("no \"nftables\" array"))?;
    let items =
        members(b, arr).ok_or_else(|| not_json("\"nftables\" is not an array, or is cut short"))?;

    let mut notes = Notes::new();
    let mut tables: Vec<Table> = Vec::new();
    let mut index: FastMap<(String, String), usize> = FastMap::default();
    let mut kube_lines = 0;
    let mut iptables: Vec<(String, usize, Vec<String>)> = Vec::new();
    for &(_, s, e) in &items {
        let line = lines.line(s);
        let v: Value = match serde_json::from_str(&text[s..e]) {
            Ok(v) => v,
            Err(x) => {
                notes.push(format!(
                    "line {line}: an object that does not read ({x}): skipped"
                ));
                continue;
            }
        };
        let Some((kind, o)) = v.as_object().and_then(|o| o.iter().next()) else {
            continue;
        };
        let family = o
            .get("family")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let field = |k: &str| o.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        if kind == "table" {
            let name = field("name");
            if name == "kube-proxy" {
                tables.push(Table::new(&family, &name));
                index.insert((family, name), tables.len() - 1);
                kube_lines += 1;
            }
            continue;
        }
        let Some(&k) = index.get(&(family.clone(), field("table"))) else {
            if kind == "chain" && field("name").starts_with("KUBE-") {
                let label = format!("table {family} {}", field("table"));
                match iptables.last_mut() {
                    Some((l, _, names)) if *l == label => names.push(field("name")),
                    _ => iptables.push((label, line, vec![field("name")])),
                }
            }
            continue;
        };
        kube_lines += 1;
        let t = &mut tables[k];
        match kind.as_str() {
            "chain" => {
                t.chains.entry(field("name")).or_default();
            }
            "rule" => {
                let expr = o
                    .get("expr")
                    .and_then(Value::as_array)
                    .map(Vec::as_slice)
                    .unwrap_or(&[]);
                let facts = json_rule(expr);
                let chain = field("chain");
                let src =
                    || Cow::Owned(text[s..e].split_whitespace().collect::<Vec<_>>().join(" "));
                apply_rule(t, &chain, facts, line, src, &mut notes);
            }
            "set" if field("name") == "cluster-ips" => {
                let set = t.cluster_ips.get_or_insert_with(FastSet::default);
                for el in o
                    .get("elem")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(ip) = el.as_str().and_then(|s| s.parse().ok()) {
                        set.insert(ip);
                    }
                }
            }
            "map" => {
                let name = field("name");
                let Some(&wanted) = MAPS.iter().find(|m| **m == name) else {
                    continue;
                };
                let elems = o
                    .get("elem")
                    .and_then(Value::as_array)
                    .map(Vec::as_slice)
                    .unwrap_or(&[]);
                // where each element starts, for its line and text
                let spans = members(b, s)
                    .and_then(|ms| member(b, &ms, "map").and_then(|m| members(b, m.1)))
                    .and_then(|ms| member(b, &ms, "elem").and_then(|m| members(b, m.1)))
                    .filter(|sp| sp.len() == elems.len());
                let list = t.maps.entry(wanted).or_default();
                for (i, el) in elems.iter().enumerate() {
                    let (key, comment, verdict) = match el.as_array().map(Vec::as_slice) {
                        Some([k, v]) => {
                            let (key, comment) = json_key(k);
                            (key, comment, json_verdict(v))
                        }
                        _ => (Vec::new(), None, None),
                    };
                    let (l, src) = match &spans {
                        Some(sp) => (lines.line(sp[i].1), &text[sp[i].1..sp[i].2]),
                        None => (line, &text[s..e]),
                    };
                    let src = clip(&src.split_whitespace().collect::<Vec<_>>().join(" "));
                    list.push(Elem {
                        key,
                        comment,
                        verdict,
                        line: l,
                        text: src,
                    });
                }
            }
            _ => {}
        }
    }
    for (table, line, names) in &iptables {
        let shown: Vec<&str> = names.iter().take(3).map(String::as_str).collect();
        notes.push(format!(
            "line {line}: {table} has iptables-mode kube-proxy chains ({}{}): iptables rules \
             beside nftables mode (read them with iptables-save)",
            shown.join(", "),
            if names.len() > 3 { ", …" } else { "" }
        ));
    }
    Ok(finish(tables, notes, text.lines().count(), kube_lines))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLUSTER: &str = include_str!("../../../tests/fixtures/rules/nft-cluster.txt");
    const CLUSTER_JSON: &str = include_str!("../../../tests/fixtures/rules/nft-cluster.json");
    const LEFTOVER: &str = include_str!("../../../tests/fixtures/rules/nft-leftover-iptables.txt");

    fn find<'a>(p: &'a Programmed, ip: Option<&str>, proto: &str, port: u16) -> &'a Frontend {
        let ip: Option<IpAddr> = ip.map(|s| s.parse().unwrap());
        p.frontends
            .iter()
            .find(|f| f.ip == ip && f.protocol == proto && f.port == port)
            .unwrap_or_else(|| panic!("no entry {ip:?} {proto} {port} in {:#?}", p.frontends))
    }

    fn addrs(f: &Frontend) -> Vec<String> {
        f.backends.iter().map(|b| b.addr.to_string()).collect()
    }

    fn check_cluster(p: &Programmed) {
        // IPv4: 14 service-ips and 3 service-nodeports entries, 2 rejected ones not among
        // them; IPv6: 3 and 1, and kube-dns's metrics rejected (no such port in its IPv6 slice)
        assert_eq!(p.frontends.len(), 14 + 3 + 2 + 4 + 1, "{:#?}", p.frontends);

        let k = find(p, Some("10.96.0.1"), "tcp", 443);
        assert_eq!(k.entry, Entry::ClusterIp);
        assert_eq!(k.service.as_deref(), Some("default/kubernetes:https"));
        assert_eq!(
            k.chain.as_deref(),
            Some("service-2QRHZV4L-default/kubernetes/tcp/https")
        );
        assert_eq!(addrs(k), ["192.168.49.2:8443"]);
        assert_eq!(
            k.backends[0].chain.as_deref(),
            Some("endpoint-PFFLQ6JN-default/kubernetes/tcp/https__192.168.49.2/8443")
        );
        assert!(!k.reject && !k.local_only);

        let dns = find(p, Some("10.96.0.10"), "udp", 53);
        assert_eq!(dns.service.as_deref(), Some("kube-system/kube-dns:dns"));
        assert_eq!(addrs(dns), ["10.244.0.2:53", "10.244.0.3:53"]);
        assert_eq!(
            find(p, Some("10.96.0.10"), "tcp", 53).service.as_deref(),
            Some("kube-system/kube-dns:dns-tcp")
        );
        assert_eq!(
            find(p, Some("10.96.0.10"), "tcp", 9153).service.as_deref(),
            Some("kube-system/kube-dns:metrics")
        );

        let my = find(p, Some("10.109.214.77"), "tcp", 80);
        assert_eq!(my.service.as_deref(), Some("default/my-service"));
        assert_eq!(
            addrs(my),
            ["10.244.1.3:80", "10.244.2.3:80", "10.244.2.4:80"]
        );
        assert_eq!(super::super::shares(&my.backends), vec![1.0 / 3.0; 3]);

        let np = find(p, None, "tcp", 30080);
        assert_eq!(np.entry, Entry::NodePort);
        assert_eq!(np.service.as_deref(), Some("default/web:http"));
        assert_eq!(
            np.chain.as_deref(),
            Some("external-SUSTUHLJ-default/web/tcp/http")
        );
        assert_eq!(addrs(np), ["10.244.1.5:8080", "10.244.2.6:8080"]);
        assert!(!np.local_only);

        for f in [
            find(p, Some("10.104.5.5"), "tcp", 80),
            find(p, None, "tcp", 30090),
        ] {
            assert!(f.reject && f.backends.is_empty() && !f.local_only, "{f:#?}");
            assert_eq!(f.service.as_deref(), Some("default/empty:http"));
        }
        assert_eq!(
            find(p, Some("10.104.5.5"), "tcp", 80).entry,
            Entry::ClusterIp
        );

        let lb = find(p, Some("203.0.113.10"), "tcp", 443);
        assert_eq!(lb.entry, Entry::LoadBalancer);
        assert!(lb.local_only && !lb.reject);
        assert_eq!(addrs(lb), ["10.244.1.8:8443"]);
        let lbnp = find(p, None, "tcp", 31443);
        assert!(lbnp.local_only);
        assert_eq!(addrs(lbnp), ["10.244.1.8:8443"]);
        assert_eq!(
            addrs(find(p, Some("10.98.7.7"), "tcp", 443)),
            ["10.244.1.8:8443", "10.244.2.9:8443"]
        );

        // Local policy, no endpoint on this node: dropped, ClusterIP still served
        let remote = find(p, Some("203.0.113.11"), "tcp", 80);
        assert!(
            remote.reject && remote.local_only && remote.backends.is_empty(),
            "{remote:#?}"
        );
        assert_eq!(remote.service.as_deref(), Some("default/lb-remote:http"));
        assert_eq!(
            remote.chain.as_deref(),
            Some("external-44PQMPCM-default/lb-remote/tcp/http")
        );
        assert!(find(p, None, "tcp", 31080).reject);
        assert_eq!(
            addrs(find(p, Some("10.98.8.8"), "tcp", 80)),
            ["10.244.2.10:80"]
        );

        let ext = find(p, Some("192.168.49.100"), "tcp", 8080);
        assert_eq!(ext.entry, Entry::ExternalIp);
        assert_eq!(ext.service.as_deref(), Some("default/ext"));
        assert_eq!(addrs(ext), ["10.244.2.20:8080"]);

        let cache = find(p, Some("10.96.0.53"), "udp", 53);
        assert!(cache.local_only);
        assert_eq!(cache.entry, Entry::ClusterIp);
        assert_eq!(addrs(cache), ["10.244.1.11:53"]);

        let sctp = find(p, Some("10.96.0.40"), "sctp", 3868);
        assert_eq!(sctp.service.as_deref(), Some("default/diameter:diameter"));

        let my6 = find(p, Some("fd00:10:96::4d"), "tcp", 80);
        assert_eq!(
            addrs(my6),
            [
                "[fd00:10:244:1::3]:80",
                "[fd00:10:244:2::3]:80",
                "[fd00:10:244:2::4]:80"
            ]
        );
        assert_eq!(my6.service.as_deref(), Some("default/my-service"));
        assert!(find(p, Some("fd00:10:96::5"), "tcp", 80).reject);

        let ranges: Vec<String> = p.masquerade.iter().map(|m| m.range.to_string()).collect();
        assert_eq!(ranges, ["10.244.0.0/16", "fd00:10:244::/56"]);
        assert!(p.notes.is_empty(), "{:?}", p.notes);
    }

    #[test]
    fn reads_the_cluster_ruleset() {
        let p = parse_text(CLUSTER).unwrap();
        check_cluster(&p);
        assert_eq!(p.lines, CLUSTER.lines().count());
        // everything but the inet filter table
        assert_eq!(
            p.kube_lines,
            CLUSTER.lines().filter(|l| !l.trim().is_empty()).count() - 6
        );
        let my = find(&p, Some("10.109.214.77"), "tcp", 80);
        assert_eq!(CLUSTER.lines().nth(my.line - 1).unwrap().trim(), my.text);
        assert!(
            my.text
                .starts_with("10.109.214.77 . tcp . 80 : goto service-4BBKY5IM"),
            "{}",
            my.text
        );
        let b = &my.backends[2];
        assert_eq!(b.text, "meta l4proto tcp dnat to 10.244.2.4:80");
        assert_eq!(CLUSTER.lines().nth(b.line - 1).unwrap().trim(), b.text);
        let m = &p.masquerade[0];
        assert_eq!(CLUSTER.lines().nth(m.line - 1).unwrap().trim(), m.text);
        // the first element of a map sits on the `elements = {` line
        let diameter = find(&p, Some("10.96.0.40"), "sctp", 3868);
        assert!(diameter
            .text
            .starts_with("elements = { 10.96.0.40 . sctp . 3868"));
    }

    #[test]
    fn reads_the_cluster_json() {
        let p = parse_json(CLUSTER_JSON).unwrap();
        check_cluster(&p);
        let t = parse_text(CLUSTER).unwrap();
        let strip = |p: &Programmed| {
            let mut v: Vec<_> = p
                .frontends
                .iter()
                .map(|f| {
                    let b: Vec<_> = f
                        .backends
                        .iter()
                        .map(|b| (b.addr, b.chain.clone()))
                        .collect();
                    (
                        f.entry,
                        f.service.clone(),
                        f.protocol.clone(),
                        f.ip,
                        f.port,
                        f.chain.clone(),
                        f.reject,
                        f.local_only,
                        b,
                    )
                })
                .collect();
            v.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
            v
        };
        assert_eq!(strip(&p), strip(&t));
        assert_eq!(p.lines, 1);
        let my = find(&p, Some("10.109.214.77"), "tcp", 80);
        assert_eq!(
            my.text,
            r#"[{"concat": ["10.109.214.77", "tcp", 80]}, {"goto": {"target": "service-4BBKY5IM-default/my-service/tcp/"}}]"#
        );
        assert!(my.backends[0]
            .text
            .contains(r#""dnat": {"addr": "10.244.1.3", "port": 80}"#));
    }

    #[test]
    fn pretty_json_keeps_lines() {
        let v: Value = serde_json::from_str(CLUSTER_JSON).unwrap();
        let pretty = serde_json::to_string_pretty(&v).unwrap();
        let p = parse_json(&pretty).unwrap();
        check_cluster(&p);
        let lines: Vec<&str> = pretty.lines().collect();
        let my = find(&p, Some("10.109.214.77"), "tcp", 80);
        assert_eq!(lines[my.line - 1].trim(), "[");
        assert_eq!(lines[my.line + 2].trim(), "\"10.109.214.77\",");
        assert!(my.text.contains("10.109.214.77"));
        let b = my.backends[0].line;
        assert_eq!(lines[b - 1].trim(), "{");
        assert!(lines[b].contains("\"rule\""), "{}", lines[b]);
    }

    #[test]
    fn the_format_is_detected() {
        use super::super::{parse, Format};
        assert_eq!(parse(CLUSTER).unwrap().0, Format::Nft);
        assert_eq!(parse(CLUSTER_JSON).unwrap().0, Format::NftJson);
        assert_eq!(parse(LEFTOVER).unwrap().0, Format::Nft);
    }

    #[test]
    fn notes_iptables_leftovers() {
        let p = parse_text(LEFTOVER).unwrap();
        assert!(
            p.notes
                .iter()
                .any(|n| n
                    .contains("table ip nat has iptables-mode kube-proxy chains (KUBE-SERVICES")),
            "{:?}",
            p.notes
        );
        assert!(p
            .frontends
            .iter()
            .any(|f| f.service.as_deref() == Some("default/my-service")));
        // nft prints a warning for iptables-nft's tables (on stderr, or in the listing)
        let warned = format!(
            "# Warning: table ip nat is managed by iptables-nft, do not touch!\n{LEFTOVER}"
        );
        let (format, q) = super::super::parse(&warned).unwrap();
        assert_eq!(format, super::super::Format::Nft);
        assert_eq!(q.frontends.len(), p.frontends.len());
        let empty = parse_text("table inet filter {\n\tchain input {\n\t\tdrop\n\t}\n}\n").unwrap();
        assert!(empty.frontends.is_empty() && empty.kube_lines == 0);
        assert!(
            empty.notes[0].contains("no `ip kube-proxy`"),
            "{:?}",
            empty.notes
        );
    }

    #[test]
    fn older_and_odd_layouts() {
        // kube-proxy 1.29/1.30: no cluster-ips set, service-ips comments; nft -n protocols,
        // nft -S port names, nft -a handles, counters, dnat ip to, a stale flushed chain.
        let text = r#"table ip kube-proxy { # handle 7
	map service-ips {
		type ipv4_addr . inet_proto . inet_service : verdict
		elements = { 10.0.0.1 . 6 . "https" comment "ns/a:https" : goto service-AAAAAAAA-ns/a/tcp/https,
			     10.0.0.9 . 17 . 53 : goto service-BBBBBBBB-ns/b/udp/dns }
	}
	map no-endpoint-services {
		type ipv4_addr . inet_proto . inet_service : verdict
		elements = { 
			     10.0.0.2 . tcp . 80 comment "ns/c:p, with a comma : and colon" : goto reject-chain,
			     1.2.3.4 . tcp . 80 comment "ns/d" : drop }
	}
	chain service-AAAAAAAA-ns/a/tcp/https { # handle 3
		ip daddr 10.0.0.1 tcp dport 443 ip saddr != 10.0.0.0/8 counter packets 1 bytes 60 jump mark-for-masquerade # handle 4
		numgen random mod 2 vmap { 1 : goto endpoint-DDDDDDDD-ns/a/tcp/https__10.1.0.2/443, 0 : goto endpoint-CCCCCCCC-ns/a/tcp/https__10.1.0.1/443 } # handle 5
	}
	chain endpoint-CCCCCCCC-ns/a/tcp/https__10.1.0.1/443 {
		meta l4proto tcp counter packets 0 bytes 0 dnat ip to 10.1.0.1:443
	}
	chain endpoint-DDDDDDDD-ns/a/tcp/https__10.1.0.2/443 {
		meta l4proto tcp dnat to 10.1.0.2:443
	}
	chain service-BBBBBBBB-ns/b/udp/dns {
		meta l4proto udp dnat to 10.1.0.9:53
	}
	chain service-EEEEEEEE-ns/old/tcp/x {
	}
}
"#;
        let p = parse_text(text).unwrap();
        let a = find(&p, Some("10.0.0.1"), "tcp", 443);
        assert_eq!(addrs(a), ["10.1.0.1:443", "10.1.0.2:443"]);
        assert_eq!(a.service.as_deref(), Some("ns/a:https"));
        assert_eq!(
            addrs(find(&p, Some("10.0.0.9"), "udp", 53)),
            ["10.1.0.9:53"]
        );
        let c = find(&p, Some("10.0.0.2"), "tcp", 80);
        assert_eq!(
            c.service.as_deref(),
            Some("ns/c:p, with a comma : and colon")
        );
        assert!(c.reject && c.entry == Entry::ClusterIp);
        // newer nft starts the elements on the line after `elements = {`
        assert!(c.text.starts_with("10.0.0.2 . tcp . 80"), "{}", c.text);
        let d = find(&p, Some("1.2.3.4"), "tcp", 80);
        assert!(d.reject && d.local_only && d.entry == Entry::ExternalIp);
        assert_eq!(p.masquerade[0].range.to_string(), "10.0.0.0/8");
        assert!(
            p.notes.iter().any(|n| n.contains("no cluster-ips set")),
            "{:?}",
            p.notes
        );
        assert!(
            p.notes
                .iter()
                .any(|n| n.contains("1 Service chains no map") && n.contains("ns/old")),
            "{:?}",
            p.notes
        );
    }

    #[test]
    fn missing_chains_are_notes() {
        let text = "table ip kube-proxy {\n\tmap service-ips {\n\t\telements = { 10.0.0.1 . tcp . 80 : goto service-AAAAAAAA-ns/a/tcp/p, 10.0.0.3 . tcp . 80 : goto service-FFFFFFFF-ns/f/tcp/p, 10.0.0.2 . tcp : goto x }\n\t}\n\tchain service-FFFFFFFF-ns/f/tcp/p {\n\t\tnumgen random mod 1 vmap { 0 : goto endpoint-GGGGGGGG-ns/f/tcp/p__10.1.1.1/80 }\n\t}\n}\n";
        let p = parse_text(text).unwrap();
        assert_eq!(p.frontends.len(), 2);
        assert!(p.frontends.iter().all(|f| f.backends.is_empty()));
        assert!(
            p.notes
                .iter()
                .any(|n| n.contains("chain service-AAAAAAAA-ns/a/tcp/p is not in the dump")),
            "{:?}",
            p.notes
        );
        assert!(
            p.notes
                .iter()
                .any(|n| n.contains("endpoint chain endpoint-GGGGGGGG")),
            "{:?}",
            p.notes
        );
        assert!(
            p.notes
                .iter()
                .any(|n| n.contains("service-ips element not read")),
            "{:?}",
            p.notes
        );
    }

    #[test]
    fn truncated_dumps_are_errors() {
        let lines: Vec<&str> = CLUSTER.lines().collect();
        for cut in 1..lines.len() {
            let text = lines[..cut].join("\n");
            match parse_text(&text) {
                Ok(p) => assert!(p.lines <= cut),
                Err(e) => assert!(
                    e.message.contains("truncated") || e.message.contains("ends inside"),
                    "{e}"
                ),
            }
        }
        let e = parse_text(&lines[..lines.len() / 2].join("\n")).unwrap_err();
        assert!(e.to_string().contains("truncated"), "{e}");
        // every byte cut of the JSON: an error or a result, never a panic
        for cut in (0..CLUSTER_JSON.len()).step_by(97) {
            if CLUSTER_JSON.is_char_boundary(cut) {
                let _ = parse_json(&CLUSTER_JSON[..cut]);
            }
        }
        assert!(parse_json(&CLUSTER_JSON[..CLUSTER_JSON.len() / 2]).is_err());
    }

    #[test]
    fn hostile_input() {
        assert!(parse_text("hello\nworld\n").is_err());
        let _ = parse_text(&"{".repeat(100_000));
        let _ = parse_text(&format!(
            "table ip kube-proxy {{\n{}\n}}\n",
            "{".repeat(100_000)
        ));
        let _ = parse_text(&format!(
            "table ip kube-proxy {{\n chain a {{\n{}\n }}\n}}\n",
            "}".repeat(50)
        ));
        let _ = parse_text("table ip kube-proxy {\n map service-ips {\n elements = { \"\" : : , , . . : goto }\n }\n}\n");
        let _ = parse_text("table ip kube-proxy {\n chain c {\n dnat to\n numgen vmap { : }\n goto\n ip saddr != jump mark-for-masquerade\n }\n}\n");
        let _ = parse_text("table ip kube-proxy {\n chain \"é\u{0}\" {\n ééé \"{\n }\n}\n");
        assert!(parse_json(&format!(
            "{{\"nftables\": {}{}}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        ))
        .is_ok());
        assert!(parse_json("{\"nftables\": 3}").is_err());
        assert!(parse_json("[]").is_err());
        assert!(parse_json("{\"nftables\": [{\"rule\": {\"family\": \"ip\", \"table\": \"kube-proxy\", \"expr\": 5}}]}").is_ok());
        let weird = r#"{"nftables": [{"table": {"family": "ip", "name": "kube-proxy"}}, {"map": {"family": "ip", "table": "kube-proxy", "name": "service-ips", "elem": [[{"concat": ["x"]}, 1], 7, [{"elem": {}}, {"goto": {}}]]}}, {"rule": {"family": "ip", "table": "kube-proxy", "chain": "c", "expr": [{"dnat": {"addr": "1.2.3.4", "port": 99999}}, {"vmap": {"key": {"numgen": {}}, "data": {"set": [[0], [1, 2]]}}}]}}]}"#;
        let p = parse_json(weird).unwrap();
        assert!(p.frontends.is_empty());
        assert!(!p.notes.is_empty());
    }

    #[test]
    fn large_dumps_are_linear() {
        // 10,000 Service ports with 3 endpoints each, as nft lists them
        let mut s = String::from("table ip kube-proxy {\n\tmap service-ips {\n\t\telements = { ");
        for i in 0..10_000u32 {
            let sep = if i + 1 < 10_000 {
                ",\n\t\t\t     "
            } else {
                " }\n\t}\n"
            };
            s += &format!(
                "10.96.{}.{} . tcp . 80 : goto service-AAAAAAAA-ns/s{i}/tcp/p{sep}",
                i / 250,
                i % 250
            );
        }
        for i in 0..10_000u32 {
            s += &format!("\tchain service-AAAAAAAA-ns/s{i}/tcp/p {{\n\t\tip daddr 10.96.0.1 tcp dport 80 ip saddr != 10.244.0.0/16 jump mark-for-masquerade\n\t\tnumgen random mod 3 vmap {{ ");
            let eps: Vec<String> = (0..3)
                .map(|e| {
                    format!(
                        "{e} : goto endpoint-BBBBBBBB-ns/s{i}/tcp/p__10.244.{e}.{}/80",
                        i % 250
                    )
                })
                .collect();
            s += &eps.join(", ");
            s += " }\n\t}\n";
            for e in 0..3 {
                s += &format!("\tchain endpoint-BBBBBBBB-ns/s{i}/tcp/p__10.244.{e}.{}/80 {{\n\t\tip saddr 10.244.{e}.{} jump mark-for-masquerade\n\t\tmeta l4proto tcp dnat to 10.244.{e}.{}:80\n\t}}\n", i % 250, i % 250, i % 250);
            }
        }
        s += "}\n";
        assert!(s.lines().count() > 100_000);
        let t = std::time::Instant::now();
        let p = parse_text(&s).unwrap();
        let took = t.elapsed();
        assert_eq!(p.frontends.len(), 10_000);
        assert!(p.frontends.iter().all(|f| f.backends.len() == 3));
        assert!(took.as_secs() < 20, "{took:?}");
    }
}
