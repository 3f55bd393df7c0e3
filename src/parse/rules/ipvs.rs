//! ipvs mode: virtual servers and their real servers, from `ipvsadm -Ln` (optionally followed
//! by `ip addr show kube-ipvs0`) and from `ipvsadm-save -n`.
//!
//! The formats (ipvsadm.c, 1.26 to 1.31): `ipvsadm -Ln` prints
//! `IP Virtual Server version 1.2.1 (size=4096)`, a title (`Prot LocalAddress:Port Scheduler
//! Flags` / `  -> RemoteAddress:Port Forward Weight ActiveConn InActConn`; `--stats`, `--rate`,
//! `--thresholds`, `--persistent-conn` and `--tun-info` change the columns), then per virtual
//! server `TCP  10.96.0.1:443 rr [persistent N] …` (UDP, SCTP; `FWM  N` for a firewall mark;
//! IPv6 as `[fd00::1]:443`) and its real servers `  -> 192.168.49.2:8443 Masq 1 0 0`.
//! `ipvsadm-save -n` (`ipvsadm -S -n`) prints `-A -t 10.96.0.1:443 -s rr [-p N]` and
//! `-a -t 10.96.0.1:443 -r 192.168.49.2:8443 -m -w 1` (`-u` UDP, `--sctp-service` SCTP,
//! `-f N` a firewall mark).
//!
//! ipvs does not name the Service: every virtual server is an entry with `service` None and
//! entry ClusterIp (NodePorts are virtual servers on the node's addresses), matched by address
//! and port. kube-proxy programs no firewall-mark services, so those are skipped with a note.

use super::nft::{clip, Notes};
use super::{err, Backend, Entry, Frontend, ParseError, Programmed};
use crate::model::{FastMap, FastSet};
use std::net::{IpAddr, SocketAddr};

fn protocol(word: &str) -> Option<&'static str> {
    match word {
        "TCP" | "-t" | "--tcp-service" => Some("tcp"),
        "UDP" | "-u" | "--udp-service" => Some("udp"),
        "SCTP" | "--sctp-service" => Some("sctp"),
        _ => None,
    }
}

fn virtual_server(proto: &str, addr: SocketAddr, line: usize, text: &str) -> Frontend {
    Frontend {
        entry: Entry::ClusterIp,
        service: None,
        protocol: proto.to_string(),
        ip: Some(addr.ip()),
        port: addr.port(),
        chain: None,
        reject: false,
        backends: Vec::new(),
        local_only: false,
        line,
        text: clip(text),
    }
}

fn real_server(addr: SocketAddr, weight: Option<u32>, line: usize, text: &str) -> Backend {
    Backend {
        addr,
        probability: None,
        weight,
        chain: None,
        line,
        text: clip(text),
    }
}

fn not_numeric(n: usize, what: &str, addr: &str) -> String {
    format!(
        "line {n}: {what} {addr} is not a numeric address and port (names: run ipvsadm with -n): skipped"
    )
}

/// `ip addr show kube-ipvs0` (or `ip addr` for every link): the addresses kube-proxy binds
/// to its dummy interface, so that the node accepts traffic for them.
#[derive(Default)]
struct Links {
    /// Inside the block of kube-ipvs0 (`N: kube-ipvs0: <…> mtu …`).
    inside: bool,
    seen: bool,
    bound: Vec<(IpAddr, usize)>,
}

impl Links {
    /// Reads a line of `ip addr` output; false when it is not one.
    fn line(&mut self, n: usize, l: &str) -> bool {
        let w: Vec<&str> = l.split_whitespace().collect();
        let index = w
            .first()
            .and_then(|f| f.strip_suffix(':'))
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
        if index && w.len() >= 2 {
            // `N: NAME: <FLAGS> …`, or `N: NAME    inet A/L …` from `ip -o addr`
            let name = w[1].trim_end_matches(':');
            let name = name.split('@').next().unwrap_or(name);
            self.inside = name == "kube-ipvs0";
            self.seen |= self.inside;
            if self.inside {
                self.address(n, &w[2..]);
            }
            return true;
        }
        if matches!(w.first(), Some(&"inet") | Some(&"inet6")) {
            if self.inside {
                self.address(n, &w);
            }
            return true;
        }
        matches!(
            w.first(),
            Some(&"link/ether") | Some(&"valid_lft") | Some(&"link/none")
        ) || w.first().is_some_and(|f| f.starts_with("link/"))
    }

    fn address(&mut self, n: usize, w: &[&str]) {
        if let Some(p) = w.iter().position(|t| *t == "inet" || *t == "inet6") {
            if let Some(ip) = w
                .get(p + 1)
                .and_then(|a| a.split('/').next())
                .and_then(|a| a.parse().ok())
            {
                self.bound.push((ip, n));
            }
        }
    }

    fn notes(&self, frontends: &[Frontend], notes: &mut Notes) {
        if !self.seen {
            return;
        }
        let served: FastSet<IpAddr> = frontends.iter().filter_map(|f| f.ip).collect();
        let bound: FastSet<IpAddr> = self.bound.iter().map(|(ip, _)| *ip).collect();
        let idle: Vec<String> = self
            .bound
            .iter()
            .filter(|(ip, _)| !served.contains(ip))
            .map(|(ip, n)| format!("{ip} (line {n})"))
            .collect();
        let mut unbound: Vec<IpAddr> = Vec::new();
        for ip in frontends.iter().filter_map(|f| f.ip) {
            if !bound.contains(&ip) && !unbound.contains(&ip) {
                unbound.push(ip);
            }
        }
        let list = |v: &[String]| {
            let shown: Vec<&str> = v.iter().take(5).map(String::as_str).collect();
            format!(
                "{}{}",
                shown.join(", "),
                if v.len() > 5 { ", …" } else { "" }
            )
        };
        notes.push(format!("kube-ipvs0 holds {} addresses", self.bound.len()));
        if !idle.is_empty() {
            notes.push(format!(
                "{} addresses on kube-ipvs0 have no virtual server (left bound: the node accepts \
                 traffic for them and nothing answers): {}",
                idle.len(),
                list(&idle)
            ));
        }
        if !unbound.is_empty() {
            let v: Vec<String> = unbound.iter().map(IpAddr::to_string).collect();
            notes.push(format!(
                "{} virtual-server addresses are not on kube-ipvs0 (the node's own addresses, \
                 for NodePorts, or an address kube-proxy failed to bind): {}",
                v.len(),
                list(&v)
            ));
        }
    }
}

const FORWARD: [&str; 6] = ["Masq", "Local", "Tunnel", "Route", "FullNat", "SNAT"];

/// Reads `ipvsadm -Ln` output, and the `ip addr show kube-ipvs0` output that may follow it.
pub fn parse_list(text: &str) -> Result<Programmed, ParseError> {
    let mut notes = Notes::new();
    let mut out: Vec<Frontend> = Vec::new();
    // index of the virtual server real servers belong to; None after a skipped one
    let mut current: Option<usize> = None;
    let mut after_skipped = false;
    let mut weight_col: Option<usize> = None;
    let mut titled = false;
    let mut kube_lines = 0;
    let mut links = Links::default();
    let mut unknown = 0;
    let mut lines = 0;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        lines = n;
        let l = raw.trim();
        if l.is_empty() {
            continue;
        }
        if l.starts_with("IP Virtual Server version") {
            titled = true;
            kube_lines += 1;
            continue;
        }
        if l.starts_with("Prot LocalAddress:Port") || l.starts_with("-> RemoteAddress:Port") {
            titled = true;
            kube_lines += 1;
            if let Some(c) = l.split_whitespace().position(|w| w == "Weight") {
                weight_col = Some(c);
            }
            continue;
        }
        let w: Vec<&str> = l.split_whitespace().collect();
        if w[0] == "->" {
            let Some(v) = current else {
                if !after_skipped {
                    notes.push(format!(
                        "line {n}: a real server before any virtual server: skipped"
                    ));
                }
                continue;
            };
            let Some(addr) = w.get(1).and_then(|a| a.parse::<SocketAddr>().ok()) else {
                notes.push(not_numeric(n, "real server", w.get(1).unwrap_or(&"")));
                continue;
            };
            let weight = match weight_col {
                Some(c) => w.get(c).and_then(|x| x.parse().ok()),
                None if w.get(2).is_some_and(|f| FORWARD.contains(f)) => {
                    w.get(3).and_then(|x| x.parse().ok())
                }
                None => None,
            };
            kube_lines += 1;
            out[v].backends.push(real_server(addr, weight, n, l));
            continue;
        }
        if let Some(proto) = protocol(w[0]) {
            after_skipped = true;
            current = None;
            let Some(addr) = w.get(1).and_then(|a| a.parse::<SocketAddr>().ok()) else {
                notes.push(not_numeric(n, "virtual server", w.get(1).unwrap_or(&"")));
                continue;
            };
            kube_lines += 1;
            current = Some(out.len());
            out.push(virtual_server(proto, addr, n, l));
            continue;
        }
        if w[0] == "FWM" || w[0] == "MATCH" || w[0] == "ICMP" || w[0] == "ICMPv6" || w[0] == "?" {
            notes.push(format!(
                "line {n}: {} virtual server (kube-proxy makes none): skipped",
                w[0]
            ));
            current = None;
            after_skipped = true;
            continue;
        }
        if links.line(n, l) {
            if links.inside {
                kube_lines += 1;
            }
            current = None;
            continue;
        }
        unknown += 1;
        if unknown <= 3 {
            notes.push(format!(
                "line {n}: not ipvsadm -Ln output, skipped: {}",
                clip(l)
            ));
        }
    }
    if unknown > 3 {
        notes.push(format!("{unknown} lines were not read in all"));
    }
    if !titled && out.is_empty() {
        return Err(err(
            1,
            "not ipvsadm -Ln output: no `IP Virtual Server version` or `Prot LocalAddress:Port` \
             title and no virtual server",
        ));
    }
    if weight_col.is_none()
        && out
            .iter()
            .any(|f| f.backends.iter().any(|b| b.weight.is_none()))
    {
        notes.push(
            "the listing has no Weight column (ipvsadm --stats or --rate): real servers are \
             taken as equal"
                .to_string(),
        );
    }
    links.notes(&out, &mut notes);
    Ok(Programmed {
        frontends: out,
        masquerade: Vec::new(),
        kube_lines,
        lines,
        notes: notes.finish(),
    })
}

/// The protocol and address of a service named in an `ipvsadm-save` line, with whether it is
/// a firewall-mark service.
fn service_of<'w>(w: &[&'w str]) -> Option<(Result<&'static str, ()>, &'w str)> {
    let mut i = 0;
    while i + 1 < w.len() {
        if let Some(p) = protocol(w[i]) {
            return Some((Ok(p), w[i + 1]));
        }
        if w[i] == "-f" || w[i] == "--fwmark-service" {
            return Some((Err(()), w[i + 1]));
        }
        i += 1;
    }
    None
}

fn option<'w>(w: &[&'w str], names: &[&str]) -> Option<&'w str> {
    w.iter()
        .position(|x| names.contains(x))
        .and_then(|i| w.get(i + 1))
        .copied()
}

/// Reads `ipvsadm-save -n` (`ipvsadm -S -n`) output.
pub fn parse_save(text: &str) -> Result<Programmed, ParseError> {
    let mut notes = Notes::new();
    let mut out: Vec<Frontend> = Vec::new();
    let mut at: FastMap<(&'static str, SocketAddr), usize> = FastMap::default();
    let mut kube_lines = 0;
    let mut unknown = 0;
    let mut lines = 0;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        lines = n;
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let w: Vec<&str> = l.split_whitespace().collect();
        let add_service = matches!(w[0], "-A" | "--add-service");
        let add_server = matches!(w[0], "-a" | "--add-server");
        if !add_service && !add_server {
            unknown += 1;
            if unknown <= 3 {
                notes.push(format!(
                    "line {n}: not ipvsadm-save output, skipped: {}",
                    clip(l)
                ));
            }
            continue;
        }
        let Some((proto, addr)) = service_of(&w[1..]) else {
            notes.push(format!("line {n}: no service address: skipped"));
            continue;
        };
        let Ok(proto) = proto else {
            if add_service {
                notes.push(format!(
                    "line {n}: firewall-mark service {addr} (kube-proxy makes none): skipped"
                ));
            }
            continue;
        };
        let Ok(vaddr) = addr.parse::<SocketAddr>() else {
            if add_service {
                notes.push(not_numeric(n, "virtual server", addr));
            }
            continue;
        };
        if add_service {
            if at.contains_key(&(proto, vaddr)) {
                notes.push(format!(
                    "line {n}: virtual server {addr} added twice: the second is skipped"
                ));
                continue;
            }
            kube_lines += 1;
            at.insert((proto, vaddr), out.len());
            out.push(virtual_server(proto, vaddr, n, l));
            continue;
        }
        let Some(&v) = at.get(&(proto, vaddr)) else {
            notes.push(format!(
                "line {n}: real server of {addr}, a virtual server not added before: skipped"
            ));
            continue;
        };
        let Some(raddr) = option(&w, &["-r", "--real-server"]) else {
            notes.push(format!("line {n}: no real server address: skipped"));
            continue;
        };
        let Ok(raddr) = raddr.parse::<SocketAddr>() else {
            notes.push(not_numeric(n, "real server", raddr));
            continue;
        };
        let weight = option(&w, &["-w", "--weight"]).and_then(|x| x.parse().ok());
        kube_lines += 1;
        out[v].backends.push(real_server(raddr, weight, n, l));
    }
    if unknown > 3 {
        notes.push(format!("{unknown} lines were not read in all"));
    }
    if out.is_empty() && unknown > 0 {
        return Err(err(
            1,
            "not ipvsadm-save -n output: no `-A` (add service) line",
        ));
    }
    Ok(Programmed {
        frontends: out,
        masquerade: Vec::new(),
        kube_lines,
        lines,
        notes: notes.finish(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &str = include_str!("../../../tests/fixtures/rules/ipvs-cluster.txt");
    const SAVE: &str = include_str!("../../../tests/fixtures/rules/ipvs-cluster-save.txt");
    const WITH_ADDRS: &str =
        include_str!("../../../tests/fixtures/rules/ipvs-cluster-with-addrs.txt");

    fn find<'a>(p: &'a Programmed, proto: &str, addr: &str) -> &'a Frontend {
        let a: SocketAddr = addr.parse().unwrap();
        p.frontends
            .iter()
            .find(|f| f.protocol == proto && f.ip == Some(a.ip()) && f.port == a.port())
            .unwrap_or_else(|| panic!("no {proto} {addr} in {:#?}", p.frontends))
    }

    fn addrs(f: &Frontend) -> Vec<String> {
        f.backends.iter().map(|b| b.addr.to_string()).collect()
    }

    fn check(p: &Programmed) {
        assert_eq!(p.frontends.len(), 22);
        assert!(p
            .frontends
            .iter()
            .all(|f| f.entry == Entry::ClusterIp && f.service.is_none()));
        let k = find(p, "tcp", "10.96.0.1:443");
        assert_eq!(addrs(k), ["192.168.49.2:8443"]);
        assert_eq!(k.backends[0].weight, Some(1));
        let my = find(p, "tcp", "10.109.214.77:80");
        assert_eq!(
            addrs(my),
            ["10.244.1.3:80", "10.244.2.3:80", "10.244.2.4:80"]
        );
        assert_eq!(super::super::shares(&my.backends), vec![1.0 / 3.0; 3]);
        assert_eq!(
            addrs(find(p, "udp", "10.96.0.10:53")),
            ["10.244.0.2:53", "10.244.0.3:53"]
        );
        assert!(find(p, "tcp", "10.104.5.5:80").backends.is_empty());
        assert!(find(p, "tcp", "203.0.113.11:80").backends.is_empty());
        assert_eq!(
            addrs(find(p, "tcp", "192.168.49.2:31443")),
            ["10.244.1.8:8443"]
        );
        assert_eq!(
            addrs(find(p, "sctp", "10.96.0.40:3868")),
            ["10.244.2.30:3868"]
        );
        assert_eq!(
            addrs(find(p, "tcp", "[fd00:10:96::4d]:80")),
            [
                "[fd00:10:244:1::3]:80",
                "[fd00:10:244:2::3]:80",
                "[fd00:10:244:2::4]:80"
            ]
        );
        assert_eq!(addrs(find(p, "udp", "[fd00:10:96::a]:53")).len(), 2);
    }

    #[test]
    fn reads_the_listing() {
        let p = parse_list(LIST).unwrap();
        check(&p);
        assert!(p.notes.is_empty(), "{:?}", p.notes);
        assert_eq!(p.lines, LIST.lines().count());
        assert_eq!(p.kube_lines, p.lines);
        let k = find(&p, "tcp", "10.96.0.1:443");
        assert_eq!(k.text, "TCP  10.96.0.1:443 rr");
        assert_eq!(k.line, 4);
        assert_eq!(k.backends[0].line, 5);
        assert_eq!(
            k.backends[0].text,
            "-> 192.168.49.2:8443            Masq    1      0          0"
        );
    }

    #[test]
    fn reads_the_save_form() {
        let p = parse_save(SAVE).unwrap();
        check(&p);
        assert!(p.notes.is_empty(), "{:?}", p.notes);
        let l = parse_list(LIST).unwrap();
        let key = |p: &Programmed| {
            let mut v: Vec<_> = p
                .frontends
                .iter()
                .map(|f| {
                    let b: Vec<_> = f.backends.iter().map(|b| (b.addr, b.weight)).collect();
                    (f.protocol.clone(), f.ip, f.port, b)
                })
                .collect();
            v.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
            v
        };
        assert_eq!(key(&p), key(&l));
        assert_eq!(p.kube_lines, SAVE.lines().count());
        let s = find(&p, "sctp", "10.96.0.40:3868");
        assert_eq!(s.text, "-A --sctp-service 10.96.0.40:3868 -s rr");
        assert_eq!(
            s.backends[0].text,
            "-a --sctp-service 10.96.0.40:3868 -r 10.244.2.30:3868 -m -w 1"
        );
    }

    #[test]
    fn reads_the_kube_ipvs0_addresses() {
        let p = parse_list(WITH_ADDRS).unwrap();
        check(&p);
        assert!(
            p.notes.iter().any(|n| n == "kube-ipvs0 holds 15 addresses"),
            "{:?}",
            p.notes
        );
        assert!(
            p.notes.iter().any(|n| n
                .starts_with("1 virtual-server addresses are not on kube-ipvs0")
                && n.ends_with(": 192.168.49.2")),
            "{:?}",
            p.notes
        );
        assert!(
            !p.notes.iter().any(|n| n.contains("have no virtual server")),
            "{:?}",
            p.notes
        );
        // an address left bound after its Service went away
        let stale = format!("{WITH_ADDRS}    inet 10.99.9.9/32 scope global kube-ipvs0\n");
        let p = parse_list(&stale).unwrap();
        assert!(
            p.notes.iter().any(
                |n| n.contains("1 addresses on kube-ipvs0 have no virtual server")
                    && n.contains("10.99.9.9")
            ),
            "{:?}",
            p.notes
        );
        // addresses of other links are not kube-proxy's
        let other = format!("{LIST}3: eth0: <BROADCAST,MULTICAST,UP> mtu 1500\n    inet 10.99.9.9/24 scope global eth0\n");
        let p = parse_list(&other).unwrap();
        assert!(p.notes.is_empty(), "{:?}", p.notes);
    }

    #[test]
    fn the_format_is_detected() {
        use super::super::{parse, Format};
        assert_eq!(parse(LIST).unwrap().0, Format::IpvsadmList);
        assert_eq!(parse(WITH_ADDRS).unwrap().0, Format::IpvsadmList);
        assert_eq!(parse(SAVE).unwrap().0, Format::IpvsadmSave);
    }

    #[test]
    fn other_listings() {
        // --stats: no weights; --persistent-conn: weights in their own column; a fwmark service
        let stats = "IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n  -> RemoteAddress:Port\nTCP  10.96.0.1:443                     10      200      150    20000    15000\n  -> 192.168.49.2:8443                  10      200      150    20000    15000\nFWM  5 rr\n  -> 10.0.0.1:80                  Masq    1      0          0\n";
        let p = parse_list(stats).unwrap();
        assert_eq!(p.frontends.len(), 1);
        assert_eq!(p.frontends[0].backends[0].weight, None);
        assert!(
            p.notes.iter().any(|n| n.contains("FWM virtual server")),
            "{:?}",
            p.notes
        );
        assert!(
            p.notes.iter().any(|n| n.contains("no Weight column")),
            "{:?}",
            p.notes
        );
        let pc = "Prot LocalAddress:Port               Weight    PersistConn ActiveConn InActConn\n  -> RemoteAddress:Port\nTCP  10.96.0.1:443 rr\n  -> 192.168.49.2:8443             3         0           0          0\n  -> 192.168.49.3:8443             0         0           0          0\n";
        let p = parse_list(pc).unwrap();
        let w: Vec<_> = p.frontends[0].backends.iter().map(|b| b.weight).collect();
        assert_eq!(w, [Some(3), Some(0)]);
        assert_eq!(
            super::super::shares(&p.frontends[0].backends),
            vec![1.0, 0.0]
        );
        // names instead of numbers
        let named = "IP Virtual Server version 1.2.1 (size=4096)\nTCP  kubernetes.default.svc.cluster.local:https rr\n  -> node1:6443 Masq 1 0 0\n";
        let p = parse_list(named).unwrap();
        assert!(p.frontends.is_empty());
        assert!(p.notes[0].contains("run ipvsadm with -n"), "{:?}", p.notes);
        assert_eq!(p.notes.len(), 1, "{:?}", p.notes);
    }

    #[test]
    fn odd_save_lines() {
        let text = "-A -f 7 -s rr\n-a -f 7 -r 10.0.0.1:0 -g -w 1\n-A -t 10.0.0.1:80 -s rr -p 10800\n-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.2:80 -r 10.1.0.1:80 -m -w 1\n-a -t 10.0.0.1:80 -r 10.1.0.1:80 -m\n-a -t 10.0.0.1:80 -m -w 1\n-a -t 10.0.0.1:80 -r nope -m -w 1\n-a --tcp-service 10.0.0.1:80 --real-server 10.1.0.2:80 --masquerading --weight 0\n";
        let p = parse_save(text).unwrap();
        assert_eq!(p.frontends.len(), 1);
        let b: Vec<_> = p.frontends[0]
            .backends
            .iter()
            .map(|b| (b.addr.to_string(), b.weight))
            .collect();
        assert_eq!(
            b,
            [
                ("10.1.0.1:80".to_string(), None),
                ("10.1.0.2:80".to_string(), Some(0))
            ]
        );
        assert_eq!(p.notes.len(), 5, "{:?}", p.notes);
    }

    #[test]
    fn hostile_input() {
        assert!(parse_list("hello\n").is_err());
        assert!(parse_save("hello\n").is_err());
        assert!(parse_list("").is_err());
        let p = parse_save("").unwrap();
        assert!(p.frontends.is_empty());
        for cut in 0..LIST.len() {
            if LIST.is_char_boundary(cut) {
                let _ = parse_list(&LIST[..cut]);
                let _ = parse_save(&SAVE[..cut.min(SAVE.len())]);
            }
        }
        let _ = parse_list("  -> \n->\nTCP\nTCP 1.2.3.4:99999 rr\n  -> [::1]:80 Masq x\n");
        let _ = parse_save("-A\n-a\n-A -t\n-a -t 1.2.3.4:80 -r\n-A -t [::1:80 -s\n");
        let garbage: String = (0..20_000)
            .map(|i| char::from_u32(i * 7919 % 0x2FFF).unwrap_or('x'))
            .collect();
        let _ = parse_list(&garbage);
        let _ = parse_save(&garbage);
        let p = parse_list(&format!(
            "IP Virtual Server version 1.2.1 (size=4096)\n{}",
            "junk line\n".repeat(100_000)
        ))
        .unwrap();
        assert!(p.notes.len() <= 5, "{:?}", p.notes);
    }

    #[test]
    fn large_listings() {
        let mut s = String::from("IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n");
        for i in 0..25_000u32 {
            s += &format!("TCP  10.{}.{}.{}:80 rr\n", i >> 16, (i >> 8) & 255, i & 255);
            for e in 0..3 {
                s += &format!(
                    "  -> 10.244.{e}.{}:8080              Masq    1      0          0         \n",
                    i & 255
                );
            }
        }
        let t = std::time::Instant::now();
        let p = parse_list(&s).unwrap();
        assert_eq!(p.frontends.len(), 25_000);
        assert!(t.elapsed().as_secs() < 20);
    }
}
