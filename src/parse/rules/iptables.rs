//! iptables mode: `iptables-save` (nat and filter, IPv4 and IPv6, one after the other) and the
//! `iptables -t nat -L -n [--line-numbers]` listing. Both are read into the same rules, then
//! walked the way packets go: KUBE-SERVICES / KUBE-NODEPORTS, to KUBE-EXT- / KUBE-FW-, to
//! KUBE-SVC- / KUBE-SVL-, to the KUBE-SEP- chains that DNAT to a pod.
//!
//! Only kube-proxy's chains (KUBE-*) are read in full; other lines are counted and skipped.

use super::{err, words, Backend, Entry, Frontend, Masquerade, ParseError, Programmed};
use crate::model::FastMap;
use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};

/// One rule, reduced to the matches kube-proxy uses.
/// Words borrow from the dump: a big one has a hundred thousand rules.
#[derive(Debug, Default)]
struct Rule<'a> {
    line: usize,
    target: Cow<'a, str>,
    /// `-s` with its negation (`! -s 10.244.0.0/16`).
    src: Option<(bool, Cow<'a, str>)>,
    dst: Option<Cow<'a, str>>,
    proto: Option<Cow<'a, str>>,
    dport: Option<u16>,
    comment: Option<Cow<'a, str>>,
    probability: Option<f64>,
    to_dest: Option<Cow<'a, str>>,
    dst_local: bool,
}

/// Chains by name, per dump: a file holding iptables-save then ip6tables-save has two.
type Chains<'a> = FastMap<Cow<'a, str>, Vec<Rule<'a>>>;

pub fn parse_save(text: &str) -> Result<Programmed, ParseError> {
    let lines: Vec<&str> = text.lines().collect();
    let mut dumps: Vec<Chains> = vec![Chains::default()];
    let mut seen_tables: Vec<String> = Vec::new();
    let mut table: Option<String> = None;
    let mut p = Programmed {
        lines: lines.len(),
        ..Default::default()
    };
    let mut unknown = 0usize;
    for (i, raw) in lines.iter().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(t) = line.strip_prefix('*') {
            // The same table again: the next family's dump begins.
            if seen_tables.iter().any(|s| s == t) {
                dumps.push(Chains::default());
                seen_tables.clear();
            }
            seen_tables.push(t.to_string());
            table = Some(t.to_string());
            continue;
        }
        if line == "COMMIT" {
            table = None;
            continue;
        }
        if table.is_none() {
            return Err(err(
                n,
                format!(
                    "a rule outside any table (no *nat or *filter line before it): {}",
                    clip(line)
                ),
            ));
        }
        if let Some(decl) = line.strip_prefix(':') {
            if decl.starts_with("KUBE-") {
                p.kube_lines += 1;
                let name = decl.split_whitespace().next().unwrap_or_default();
                dumps
                    .last_mut()
                    .unwrap()
                    .entry(Cow::Borrowed(name))
                    .or_default();
            }
            continue;
        }
        let Some(rest) = line.strip_prefix("-A ") else {
            unknown += 1;
            continue;
        };
        // Other chains are counted only when they jump into kube-proxy's (PREROUTING, OUTPUT).
        if !rest.starts_with("KUBE-") {
            if rest.contains(" KUBE-") {
                p.kube_lines += 1;
            }
            continue;
        }
        p.kube_lines += 1;
        let mut w = words(line).map_err(|e| err(n, format!("{e}: {}", clip(line))))?;
        if w.len() < 2 {
            continue;
        }
        let chain = w.remove(1);
        w.remove(0);
        let rule = save_rule(n, w, &mut p.notes);
        dumps
            .last_mut()
            .unwrap()
            .entry(chain)
            .or_default()
            .push(rule);
    }
    if table.is_some() {
        p.notes
            .push("the dump ends inside a table (no COMMIT): it may be cut short".into());
    }
    if unknown > 0 {
        p.notes.push(format!(
            "{unknown} line(s) that are not rules or chain declarations were skipped"
        ));
    }
    for chains in &dumps {
        walk(chains, &lines, &mut p);
    }
    Ok(p)
}

/// `w` is the rule's words after `-A CHAIN`.
fn save_rule<'a>(line: usize, w: Vec<Cow<'a, str>>, notes: &mut Vec<String>) -> Rule<'a> {
    let mut r = Rule {
        line,
        ..Default::default()
    };
    let mut neg = false;
    let mut it = w.into_iter();
    while let Some(word) = it.next() {
        match &*word {
            "!" => {
                neg = true;
                continue;
            }
            "-s" | "--source" => r.src = it.next().map(|a| (neg, a)),
            "-d" | "--destination" => r.dst = it.next(),
            "-p" | "--protocol" => r.proto = it.next().map(lowercase),
            "--dport" | "--destination-port" => r.dport = it.next().and_then(|a| a.parse().ok()),
            "--comment" => r.comment = it.next(),
            "--probability" => {
                // `nan` parses as an f64, but is not a number either
                r.probability = it
                    .next()
                    .and_then(|a| a.parse().ok())
                    .filter(|p: &f64| !p.is_nan());
                if r.probability.is_none() {
                    notes.push(format!("line {line}: a probability that is not a number"));
                }
            }
            "--to-destination" => r.to_dest = it.next(),
            "-j" | "--jump" | "-g" | "--goto" => r.target = it.next().unwrap_or_default(),
            "--dst-type" => r.dst_local = it.next().as_deref() == Some("LOCAL"),
            _ => {}
        }
        neg = false;
    }
    r
}

fn lowercase(s: Cow<'_, str>) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(s.to_ascii_lowercase())
    } else {
        s
    }
}

pub fn parse_list(text: &str) -> Result<Programmed, ParseError> {
    let lines: Vec<&str> = text.lines().collect();
    let mut dumps: Vec<Chains> = vec![Chains::default()];
    let mut p = Programmed {
        lines: lines.len(),
        ..Default::default()
    };
    let mut chain: Option<&str> = None;
    let mut numbered = false;
    for (i, raw) in lines.iter().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("Chain ") {
            let name = rest.split_whitespace().next().unwrap_or_default();
            if dumps
                .last()
                .unwrap()
                .get(name)
                .is_some_and(|r| !r.is_empty())
            {
                dumps.push(Chains::default()); // a second listing (ip6tables) follows
            }
            if name.starts_with("KUBE-") {
                p.kube_lines += 1;
                dumps
                    .last_mut()
                    .unwrap()
                    .entry(Cow::Borrowed(name))
                    .or_default();
            }
            chain = Some(name);
            continue;
        }
        if line.starts_with("target ") || line.starts_with("num ") {
            numbered = line.starts_with("num ");
            continue;
        }
        let Some(c) = chain else {
            return Err(err(
                n,
                format!("a rule before any \"Chain\" heading: {}", clip(line)),
            ));
        };
        let rule =
            list_rule(n, line, numbered).map_err(|e| err(n, format!("{e}: {}", clip(line))))?;
        if c.starts_with("KUBE-") {
            p.kube_lines += 1;
            dumps
                .last_mut()
                .unwrap()
                .entry(Cow::Borrowed(c))
                .or_default()
                .push(rule);
        } else if rule.target.starts_with("KUBE-") {
            p.kube_lines += 1;
        }
    }
    for chains in &dumps {
        walk(chains, &lines, &mut p);
    }
    Ok(p)
}

/// `[num] target prot opt source destination [matches...]`; the target column is empty for
/// a rule without a jump.
fn list_rule(line: usize, text: &str, numbered: bool) -> Result<Rule<'static>, String> {
    // The comment may hold any text: take it out before splitting on spaces.
    let (head, comment) = match (text.find("/* "), text.rfind(" */")) {
        // `/* */` is the opening and the closing sharing a space: no comment inside
        (Some(a), Some(b)) if b >= a + 3 => (
            format!("{} {}", &text[..a], &text[b + 3..]),
            Some(text[a + 3..b].to_string()),
        ),
        _ => (text.to_string(), None),
    };
    let mut w: Vec<&str> = head.split_whitespace().collect();
    if numbered {
        if w.first().is_none_or(|x| x.parse::<u32>().is_err()) {
            return Err("expected a rule number first".into());
        }
        w.remove(0);
    }
    let is_opt = |s: &str| s == "--" || s.starts_with('-') && s.len() <= 3 || s == "!f";
    // Without a target, the protocol comes first and the option column second.
    let target = if w.len() >= 2
        && is_opt(w[1])
        && !is_opt(w[0])
        && w.len() >= 4
        && !w[0].starts_with("KUBE-")
        && is_proto(w[0])
    {
        String::new()
    } else if w.is_empty() {
        return Err("an empty rule".into());
    } else {
        w.remove(0).to_string()
    };
    let own = |s: &str| Cow::Owned(s.to_string());
    if w.len() < 4 {
        return Err("expected the columns prot, opt, source and destination".into());
    }
    let proto = w[0].to_ascii_lowercase();
    let src = w[2];
    let dst = w[3];
    let any = |s: &str| s == "0.0.0.0/0" || s == "::/0";
    let mut r = Rule {
        line,
        proto: (proto != "all" && proto != "0").then_some(Cow::Owned(proto)),
        src: (!any(src.trim_start_matches('!')))
            .then(|| (src.starts_with('!'), own(src.trim_start_matches('!')))),
        dst: (!any(dst.trim_start_matches('!'))).then(|| own(dst)),
        comment: comment.map(Cow::Owned),
        ..Default::default()
    };
    r.target = Cow::Owned(target);
    let rest = &w[4..];
    for (i, x) in rest.iter().enumerate() {
        let next = rest.get(i + 1).copied();
        if let Some(p) = x.strip_prefix("dpt:") {
            r.dport = p.parse().ok();
        } else if *x == "probability" {
            r.probability = next
                .and_then(|v| v.parse().ok())
                .filter(|p: &f64| !p.is_nan());
        } else if let Some(d) = x.strip_prefix("to:") {
            r.to_dest = Some(own(d));
        } else if *x == "dst-type" {
            r.dst_local = next == Some("LOCAL");
        }
    }
    Ok(r)
}

fn is_proto(s: &str) -> bool {
    matches!(
        s,
        "all" | "tcp" | "udp" | "sctp" | "icmp" | "ipv6-icmp" | "0" | "6" | "17" | "132"
    )
}

fn clip(s: &str) -> String {
    if s.len() <= 120 {
        s.to_string()
    } else {
        let mut end = 120;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &s[..end])
    }
}

const NO_ENDPOINTS: &str = " has no endpoints";
const NO_LOCAL_ENDPOINTS: &str = " has no local endpoints";

/// Walks one dump's chains from the entry chains to the endpoints.
fn walk(chains: &Chains, lines: &[&str], p: &mut Programmed) {
    let text = |n: usize| {
        lines
            .get(n - 1)
            .map(|l| l.trim().to_string())
            .unwrap_or_default()
    };
    let empty = Vec::new();
    for (chain, default_entry) in [
        ("KUBE-SERVICES", Entry::ClusterIp),
        ("KUBE-NODEPORTS", Entry::NodePort),
        ("KUBE-EXTERNAL-SERVICES", Entry::ExternalIp),
    ] {
        for r in chains.get(chain).unwrap_or(&empty) {
            let comment = r.comment.as_deref().unwrap_or_default();
            let (reject, local) = if r.target == "REJECT" || r.target == "DROP" {
                if comment.ends_with(NO_ENDPOINTS) {
                    (true, false)
                } else if comment.ends_with(NO_LOCAL_ENDPOINTS) {
                    (true, true)
                } else {
                    continue; // firewall drops and other filters
                }
            } else if is_service_chain(&r.target) {
                (false, false)
            } else {
                continue;
            };
            let Some(port) = r.dport else { continue };
            let ip = r.dst.as_deref().and_then(host_ip);
            let (service, entry) = name_and_entry(comment);
            let entry = match (entry, ip) {
                (Some(e), _) => e,
                (None, None) => Entry::NodePort,
                (None, Some(_)) if chain == "KUBE-NODEPORTS" || r.dst_local => Entry::NodePort,
                (None, Some(_)) => default_entry,
            };
            let mut f = Frontend {
                entry,
                service,
                protocol: r.proto.as_deref().unwrap_or("tcp").to_string(),
                ip: if entry == Entry::NodePort { None } else { ip },
                port,
                chain: None,
                reject,
                backends: vec![],
                local_only: local,
                line: r.line,
                text: text(r.line),
            };
            if !reject {
                resolve(chains, &r.target, &mut f, p, &text);
            }
            p.frontends.push(f);
        }
    }
}

fn is_service_chain(t: &str) -> bool {
    [
        "KUBE-SVC-",
        "KUBE-SVL-",
        "KUBE-EXT-",
        "KUBE-FW-",
        "KUBE-XLB-",
    ]
    .iter()
    .any(|p| t.starts_with(p))
}

/// The Service port name and entry kind from kube-proxy's comment: "ns/svc:port cluster IP",
/// "ns/svc:port external IP", "ns/svc:port loadbalancer IP", "ns/svc:port has no endpoints".
fn name_and_entry(comment: &str) -> (Option<String>, Option<Entry>) {
    for (suffix, entry) in [
        (" cluster IP", Some(Entry::ClusterIp)),
        (" external IP", Some(Entry::ExternalIp)),
        (" loadbalancer IP", Some(Entry::LoadBalancer)),
        (NO_ENDPOINTS, None),
        (NO_LOCAL_ENDPOINTS, None),
    ] {
        if let Some(name) = comment.strip_suffix(suffix) {
            return (Some(name.to_string()), entry);
        }
    }
    (
        (!comment.is_empty() && !comment.contains(' ')).then(|| comment.to_string()),
        None,
    )
}

fn host_ip(s: &str) -> Option<IpAddr> {
    let s = s.trim_start_matches('!');
    let (ip, len) = s.split_once('/').unwrap_or((s, ""));
    let ip: IpAddr = ip.parse().ok()?;
    let full = if ip.is_ipv4() { "32" } else { "128" };
    (len.is_empty() || len == full).then_some(ip)
}

/// From the chain an entry jumps to, down to the endpoints: EXT/FW chains lead to the SVC
/// (or SVL, traffic policy Local) chain, whose rules pick a SEP chain each.
fn resolve(
    chains: &Chains,
    first: &str,
    f: &mut Frontend,
    p: &mut Programmed,
    text: &dyn Fn(usize) -> String,
) {
    let mut chain = first.to_string();
    // EXT -> (FW ->) SVC/SVL: a fixed depth, so a loop in a hostile dump ends.
    for _ in 0..4 {
        let Some(rules) = chains.get(chain.as_str()) else {
            f.chain = Some(chain.clone());
            p.notes.push(format!(
                "chain {chain} is not in the dump: its endpoints are not known"
            ));
            return;
        };
        if chain.starts_with("KUBE-SVC-")
            || chain.starts_with("KUBE-SVL-")
            || chain.starts_with("KUBE-XLB-")
                && !rules.iter().any(|r| r.target.starts_with("KUBE-SVC-"))
        {
            f.chain = Some(chain.clone());
            f.local_only = !chain.starts_with("KUBE-SVC-");
            backends(chains, rules, f, p, text);
            return;
        }
        let next = rules
            .iter()
            .rev()
            .find(|r| is_service_chain(&r.target) && r.target != chain);
        match next {
            Some(r) => chain = r.target.to_string(),
            None => {
                f.chain = Some(chain.clone());
                f.reject = rules
                    .iter()
                    .any(|r| r.target == "KUBE-MARK-DROP" || r.target == "DROP");
                return;
            }
        }
    }
    f.chain = Some(chain);
}

fn backends(
    chains: &Chains,
    rules: &[Rule],
    f: &mut Frontend,
    p: &mut Programmed,
    text: &dyn Fn(usize) -> String,
) {
    for r in rules {
        if r.target == "KUBE-MARK-MASQ" {
            if let Some((true, range)) = &r.src {
                if let Ok(range) = range.parse() {
                    if !p.masquerade.iter().any(|m| m.range == range) {
                        p.masquerade.push(Masquerade {
                            range,
                            line: r.line,
                            text: text(r.line),
                        });
                    }
                }
            }
            continue;
        }
        if !r.target.starts_with("KUBE-SEP-") {
            if r.target == "KUBE-MARK-DROP" || r.target == "DROP" || r.target == "REJECT" {
                f.reject = f.backends.is_empty();
            }
            continue;
        }
        // The SEP chain's DNAT names the endpoint; a listing of the SVC chain alone still
        // says it in the comment ("ns/svc:port -> 10.244.2.3:80").
        let dnat = chains
            .get(&r.target)
            .and_then(|sep| sep.iter().find_map(|s| s.to_dest.as_deref()));
        let from_comment = r
            .comment
            .as_deref()
            .and_then(|c| c.rsplit_once(" -> "))
            .map(|(_, a)| a);
        let addr = dnat.or(from_comment).and_then(parse_addr);
        match addr {
            Some(addr) => f.backends.push(Backend {
                addr,
                probability: r.probability,
                weight: None,
                chain: Some(r.target.to_string()),
                line: r.line,
                text: text(r.line),
            }),
            None => p.notes.push(format!(
                "line {}: endpoint chain {} has no DNAT target in the dump",
                r.line, r.target
            )),
        }
    }
}

/// `10.244.2.4:80` or `[fd00::4]:80`.
fn parse_addr(s: &str) -> Option<SocketAddr> {
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAVE: &str = r#"# Generated by iptables-save v1.8.9 (nf_tables)
*filter
:KUBE-SERVICES - [0:0]
:KUBE-EXTERNAL-SERVICES - [0:0]
-A KUBE-SERVICES -d 10.96.0.20/32 -p tcp -m comment --comment "default/empty:web has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable
COMMIT
*nat
:KUBE-SERVICES - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-SVC-FXIYY6OHUSNBITIX - [0:0]
:KUBE-EXT-FXIYY6OHUSNBITIX - [0:0]
:KUBE-SEP-BVVT36TDQ4XITJXY - [0:0]
:KUBE-SEP-BENFWTFL3RRJWBIC - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A KUBE-SERVICES -d 10.109.214.77/32 -p tcp -m comment --comment "default/my-service cluster IP" -m tcp --dport 80 -j KUBE-SVC-FXIYY6OHUSNBITIX
-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
-A KUBE-NODEPORTS -p tcp -m comment --comment default/my-service -m tcp --dport 30007 -j KUBE-EXT-FXIYY6OHUSNBITIX
-A KUBE-EXT-FXIYY6OHUSNBITIX -m comment --comment "masquerade traffic for default/my-service external destinations" -j KUBE-MARK-MASQ
-A KUBE-EXT-FXIYY6OHUSNBITIX -j KUBE-SVC-FXIYY6OHUSNBITIX
-A KUBE-SVC-FXIYY6OHUSNBITIX ! -s 10.244.0.0/16 -d 10.109.214.77/32 -p tcp -m comment --comment "default/my-service cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ
-A KUBE-SVC-FXIYY6OHUSNBITIX -m comment --comment "default/my-service -> 10.244.2.3:80" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-BVVT36TDQ4XITJXY
-A KUBE-SVC-FXIYY6OHUSNBITIX -m comment --comment "default/my-service -> 10.244.2.4:80" -j KUBE-SEP-BENFWTFL3RRJWBIC
-A KUBE-SEP-BVVT36TDQ4XITJXY -s 10.244.2.3/32 -m comment --comment default/my-service -j KUBE-MARK-MASQ
-A KUBE-SEP-BVVT36TDQ4XITJXY -p tcp -m comment --comment default/my-service -m tcp -j DNAT --to-destination 10.244.2.3:80
-A KUBE-SEP-BENFWTFL3RRJWBIC -p tcp -m comment --comment default/my-service -m tcp -j DNAT --to-destination 10.244.2.4:80
COMMIT
"#;

    #[test]
    fn save_walks_entries_to_endpoints() {
        let p = parse_save(SAVE).unwrap();
        assert_eq!(p.frontends.len(), 3, "{:#?}", p.frontends);
        let reject = &p.frontends[0];
        assert!(reject.reject);
        assert_eq!(reject.service.as_deref(), Some("default/empty:web"));
        assert_eq!(reject.ip, Some("10.96.0.20".parse().unwrap()));
        let cip = p
            .frontends
            .iter()
            .find(|f| f.entry == Entry::ClusterIp && !f.reject)
            .unwrap();
        assert_eq!(cip.chain.as_deref(), Some("KUBE-SVC-FXIYY6OHUSNBITIX"));
        let addrs: Vec<String> = cip.backends.iter().map(|b| b.addr.to_string()).collect();
        assert_eq!(addrs, ["10.244.2.3:80", "10.244.2.4:80"]);
        assert_eq!(cip.backends[0].probability, Some(0.5));
        assert_eq!(cip.backends[1].line, 22, "the SVC chain's rule for it");
        let np = p
            .frontends
            .iter()
            .find(|f| f.entry == Entry::NodePort)
            .unwrap();
        assert_eq!((np.ip, np.port, np.backends.len()), (None, 30007, 2));
        assert_eq!(p.masquerade[0].range.to_string(), "10.244.0.0/16");
    }

    /// The seed's listings, as printed on minikube-m02: two endpoints, then three.
    #[test]
    fn seed_listings_trace_to_the_printed_endpoints() {
        let two = parse_list(include_str!(
            "../../../tests/fixtures/rules/seed-004-two-endpoints.txt"
        ))
        .unwrap();
        assert_eq!(two.frontends.len(), 7, "seven cluster IPs in KUBE-SERVICES");
        let my = two
            .frontends
            .iter()
            .find(|f| f.service.as_deref() == Some("default/my-service"))
            .unwrap();
        assert_eq!(
            (my.ip, my.port, my.protocol.as_str()),
            (Some("10.109.214.77".parse().unwrap()), 80, "tcp")
        );
        let addrs: Vec<String> = my.backends.iter().map(|b| b.addr.to_string()).collect();
        assert_eq!(addrs, ["10.244.2.3:80", "10.244.2.4:80"]);
        let dns = two
            .frontends
            .iter()
            .find(|f| f.service.as_deref() == Some("kube-system/kube-dns:dns"))
            .unwrap();
        assert_eq!((dns.protocol.as_str(), dns.port), ("udp", 53));
        assert!(dns.backends.is_empty(), "its chain is not in the listing");
        assert!(two
            .notes
            .iter()
            .any(|n| n.contains("KUBE-SVC-TCOU7JCQXEZGVUNU")));
        assert_eq!(two.masquerade[0].range.to_string(), "10.244.0.0/16");

        let three = parse_list(include_str!(
            "../../../tests/fixtures/rules/seed-004-three-endpoints.txt"
        ))
        .unwrap();
        let my = three
            .frontends
            .iter()
            .find(|f| f.service.as_deref() == Some("default/my-service"))
            .unwrap();
        let probs: Vec<Option<f64>> = my.backends.iter().map(|b| b.probability).collect();
        assert_eq!(probs, [Some(0.33333333349), Some(0.5), None]);
        let last = my.backends.last().unwrap();
        assert_eq!(last.addr.to_string(), "10.244.2.4:80");
        assert_eq!(last.line, 16, "the SVC chain's rule for it");

        for s in super::super::shares(&my.backends) {
            assert!((s - 1.0 / 3.0).abs() < 1e-6);
        }
    }

    /// iptables-save then ip6tables-save in one file: the same chain names (kube-proxy hashes
    /// the Service port, not the family) are two families' chains, walked apart.
    #[test]
    fn two_families_in_one_file_stay_apart() {
        let v6 = SAVE
            .replace("10.109.214.77/32", "fd00:10:96::77/128")
            .replace("10.96.0.20/32", "fd00:10:96::20/128")
            .replace("10.244.2.3:80", "[fd00:10:244:2::3]:80")
            .replace("10.244.2.4:80", "[fd00:10:244:2::4]:80")
            .replace("10.244.0.0/16", "fd00:10:244::/56")
            .replace("iptables-save", "ip6tables-save");
        let p = parse_save(&format!("{SAVE}{v6}")).unwrap();
        assert_eq!(p.frontends.len(), 6);
        for f in p.frontends.iter().filter(|f| !f.reject) {
            let v6 = p.frontends.iter().position(|x| std::ptr::eq(x, f)).unwrap() >= 3;
            assert!(f.backends.iter().all(|b| b.addr.is_ipv6() == v6), "{f:?}");
            assert_eq!(f.backends.len(), 2);
        }
        let ranges: Vec<String> = p.masquerade.iter().map(|m| m.range.to_string()).collect();
        assert_eq!(ranges, ["10.244.0.0/16", "fd00:10:244::/56"]);
    }

    #[test]
    fn hostile_lines_are_errors_or_notes() {
        assert!(parse_save("*nat\n-A KUBE-SERVICES -m comment --comment \"open\n").is_err());
        assert!(parse_save("-A KUBE-SERVICES -j X\n").is_err());
        let p = parse_save("*nat\n-A KUBE-SVC-A -j KUBE-SVC-A\n-A KUBE-SERVICES -d 1.2.3.4/32 -p tcp --dport 80 -j KUBE-EXT-A\n-A KUBE-EXT-A -j KUBE-FW-A\n-A KUBE-FW-A -j KUBE-EXT-A\n").unwrap();
        assert_eq!(p.frontends.len(), 1);
        assert!(p.notes.iter().any(|n| n.contains("no COMMIT")));
        assert!(parse_list("Chain KUBE-SERVICES (2 references)\nnum target\n1 x\n").is_err());
    }

    /// Inputs that fail fuzz/fuzz_targets/rules_iptables.rs without the fixes beside them.
    #[test]
    fn fuzz_found_inputs() {
        // `/* */`: the comment's opening and closing overlap (a slice out of order, a panic)
        let p = parse_list("Chain KUBE-SERVICES (2 references)\ntarget prot opt source destination\nKUBE-SVC-X tcp -- 0.0.0.0/0 10.96.0.1 /* */ tcp dpt:443\n").unwrap();
        assert_eq!((p.frontends.len(), p.frontends[0].port), (1, 443));
        // `--probability nan` parsed as a probability: shares of NaN
        let p = parse_save("*nat\n-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp --dport 443 -j KUBE-SVC-A\n-A KUBE-SVC-A -m statistic --mode random --probability nan -j KUBE-SEP-A\n-A KUBE-SEP-A -j DNAT --to-destination 10.244.0.1:80\nCOMMIT\n").unwrap();
        assert_eq!(p.frontends[0].backends[0].probability, None);
        assert!(p
            .notes
            .iter()
            .any(|n| n == "line 3: a probability that is not a number"));
        assert_eq!(super::super::shares(&p.frontends[0].backends), [1.0]);
        let p = parse_list("Chain KUBE-SVC-A (1 references)\ntarget prot opt source destination\nKUBE-SEP-A all -- 0.0.0.0/0 0.0.0.0/0 /* a/b -> 10.244.0.1:80 */ statistic mode random probability NaN\nChain KUBE-SERVICES (2 references)\ntarget prot opt source destination\nKUBE-SVC-A tcp -- 0.0.0.0/0 10.96.0.1 /* a/b cluster IP */ tcp dpt:80\n").unwrap();
        assert_eq!(p.frontends[0].backends[0].probability, None);
    }
}
