//! CIDR parsing and range arithmetic. Overlap search is a sort and sweep, never all pairs.

use ipnet::IpNet;
use std::net::IpAddr;

/// Parses one CIDR as Kubernetes components accept it: surrounding spaces are ignored, host
/// bits are cleared (`10.19.9.9/24` names 10.19.9.0/24), anything else is an error that says why.
pub fn parse(s: &str) -> Result<IpNet, String> {
    let t = s.trim().trim_matches('"');
    if t.is_empty() {
        return Err("empty value, expected a CIDR such as 10.96.0.0/12".into());
    }
    let Some((addr, len)) = t.split_once('/') else {
        return Err(format!(
            "'{t}' has no prefix length, expected a CIDR such as 10.96.0.0/12"
        ));
    };
    let ip =
        ip(addr.trim()).ok_or_else(|| format!("'{t}': '{}' is not an IP address", addr.trim()))?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let len: u8 = len
        .trim()
        .parse()
        .ok()
        .filter(|l| *l <= max)
        .ok_or_else(|| format!("'{t}': prefix length must be 0..={max}"))?;
    IpNet::new(ip, len)
        .map(|n| n.trunc())
        .map_err(|e| format!("'{t}': {e}"))
}

/// Parses a comma-separated list (dual-stack flags), keeping what parses and reporting the rest.
pub fn parse_list(s: &str) -> (Vec<IpNet>, Vec<String>) {
    let mut ok = Vec::new();
    let mut bad = Vec::new();
    for part in s.split(',').filter(|p| !p.trim().is_empty()) {
        match parse(part) {
            Ok(n) => ok.push(n),
            Err(e) => bad.push(e),
        }
    }
    if ok.is_empty() && bad.is_empty() {
        bad.push("empty value, expected a CIDR such as 10.96.0.0/12".into());
    }
    (ok, bad)
}

/// Parses an interface address with its prefix (`10.19.9.9/24`), keeping the host part.
pub fn parse_addr(s: &str) -> Option<(IpAddr, u8)> {
    let (a, l) = s.trim().split_once('/')?;
    let ip: IpAddr = a.parse().ok()?;
    let l: u8 = l.parse().ok()?;
    IpNet::new(ip, l).ok()?;
    Some((ip, l))
}

pub fn parse_ip(s: &str) -> Option<IpAddr> {
    ip(s.trim())
}

/// An address, as `IpAddr::from_str` reads it. Dotted-quad IPv4 is read here first: every pod
/// address of a big cluster passes through, and the standard parser's general grammar took
/// 190 instructions an address (callgrind, issue #20). What this fast path accepts, the
/// standard parser accepts with the same value; anything else is handed to it.
pub fn ip(s: &str) -> Option<IpAddr> {
    ipv4(s.as_bytes())
        .map(IpAddr::V4)
        .or_else(|| s.parse().ok())
}

/// Four decimal parts, none with a leading zero, each at most 255: in one pass over the bytes.
fn ipv4(b: &[u8]) -> Option<std::net::Ipv4Addr> {
    let (mut out, mut part, mut v, mut digits) = ([0u8; 4], 0, 0u32, 0);
    for &c in b {
        match c {
            b'0'..=b'9' => {
                if digits == 1 && v == 0 {
                    return None;
                }
                v = v * 10 + u32::from(c - b'0');
                digits += 1;
                if v > 255 {
                    return None;
                }
            }
            b'.' if digits > 0 && part < 3 => {
                out[part] = v as u8;
                (part, v, digits) = (part + 1, 0, 0);
            }
            _ => return None,
        }
    }
    (part == 3 && digits > 0).then(|| {
        out[3] = v as u8;
        out.into()
    })
}

/// Start and end of a range as integers, with the family, so both families sort apart.
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

fn ip_value(ip: &IpAddr) -> (bool, u128) {
    match ip {
        IpAddr::V4(v) => (false, u32::from(*v) as u128),
        IpAddr::V6(v) => (true, u128::from(*v)),
    }
}

pub fn overlap(a: &IpNet, b: &IpNet) -> bool {
    a.contains(b) || b.contains(a)
}

/// Pairs of overlapping ranges among `items`, by index. CIDRs either nest or are disjoint, so
/// after sorting by start (widest first) a stack of enclosing ranges finds every range's
/// enclosing neighbour in O(n log n). Each overlapping range is reported once, against the
/// innermost range that encloses it.
pub fn overlapping_pairs(items: &[IpNet]) -> Vec<(usize, usize)> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by_key(|&i| {
        let (v6, s, _) = bounds(&items[i]);
        (v6, s, items[i].prefix_len())
    });
    let mut stack: Vec<usize> = Vec::new();
    let mut out = Vec::new();
    for i in order {
        let (v6, s, _) = bounds(&items[i]);
        while let Some(&top) = stack.last() {
            let (tv6, _, te) = bounds(&items[top]);
            if tv6 != v6 || te < s {
                stack.pop();
            } else {
                break;
            }
        }
        if let Some(&top) = stack.last() {
            out.push((top, i));
        }
        stack.push(i);
    }
    out
}

/// The smallest single prefix that covers every address given, per family.
pub fn covering(ips: impl IntoIterator<Item = IpAddr>) -> Vec<IpNet> {
    let mut lo: [Option<(u128, u128)>; 2] = [None, None];
    for ip in ips {
        let (v6, x) = ip_value(&ip);
        let slot = &mut lo[v6 as usize];
        *slot = Some(match *slot {
            None => (x, x),
            Some((a, b)) => (a.min(x), b.max(x)),
        });
    }
    let mut out = Vec::new();
    for (fam, r) in lo.iter().enumerate() {
        let Some((a, b)) = *r else { continue };
        let bits = if fam == 0 { 32 } else { 128 };
        let diff = a ^ b;
        let host_bits = if diff == 0 {
            0
        } else {
            128 - diff.leading_zeros()
        };
        let len = (bits - host_bits) as u8;
        let net = if fam == 0 {
            IpNet::new(IpAddr::V4((a as u32).into()), len)
        } else {
            IpNet::new(IpAddr::V6(a.into()), len)
        };
        if let Ok(n) = net {
            out.push(n.trunc());
        }
    }
    out
}

/// The smallest prefix covering a set of ranges, per family.
pub fn covering_nets(nets: &[IpNet]) -> Vec<IpNet> {
    let mut out = Vec::new();
    for v6 in [false, true] {
        let fam: Vec<&IpNet> = nets.iter().filter(|n| n.addr().is_ipv6() == v6).collect();
        if fam.is_empty() {
            continue;
        }
        let ends = fam.iter().flat_map(|n| [n.network(), n.broadcast()]);
        if let Some(c) = covering(ends).into_iter().next() {
            let shortest = fam
                .iter()
                .map(|n| n.prefix_len())
                .min()
                .unwrap_or(c.prefix_len());
            out.push(
                IpNet::new(c.addr(), c.prefix_len().min(shortest))
                    .map(|n| n.trunc())
                    .unwrap_or(c),
            );
        }
    }
    out
}

pub fn contains_ip(nets: &[IpNet], ip: &IpAddr) -> bool {
    nets.iter().any(|n| n.contains(ip))
}

/// True when `inner` lies wholly inside one of `outer`.
pub fn within(outer: &[IpNet], inner: &IpNet) -> bool {
    outer.iter().any(|o| o.contains(inner))
}

pub fn same_family(a: &IpNet, b: &IpNet) -> bool {
    a.addr().is_ipv4() == b.addr().is_ipv4()
}

/// Sets are equal ignoring order: the same ranges, dual-stack listed either way round.
pub fn same_set(a: &[IpNet], b: &[IpNet]) -> bool {
    let mut x = a.to_vec();
    let mut y = b.to_vec();
    x.sort();
    x.dedup();
    y.sort();
    y.dedup();
    x == y
}

pub fn join(nets: &[IpNet]) -> String {
    nets.iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> IpNet {
        parse(s).unwrap()
    }

    #[test]
    fn addresses_read_as_the_standard_parser_reads_them() {
        let cases = [
            "10.244.1.7",
            "0.0.0.0",
            "255.255.255.255",
            "256.1.1.1",
            "1.2.3.255",
            "1.2.3.256",
            "01.2.3.4",
            "1.2.3.04",
            "1.2.3.0",
            "1.2.3",
            "1.2.3.4.5",
            "1..2.3",
            "",
            ".",
            "1.2.3.",
            "a.b.c.d",
            "1.2.3.4 ",
            " 1.2.3.4",
            "1.2.3.+4",
            "1.2.3.-4",
            "0001.2.3.4",
            "1.2.3.1000",
            "::1",
            "fd00::10",
            "::ffff:1.2.3.4",
            "1.2.3.4/24",
            "١.٢.٣.٤",
        ];
        for c in cases {
            assert_eq!(ip(c), c.parse::<IpAddr>().ok(), "{c:?}");
        }
        // The fast path itself, not only its fallback.
        assert_eq!(ipv4(b"10.244.1.7"), Some([10, 244, 1, 7].into()));
        assert_eq!(ipv4(b"01.2.3.4"), None);
        assert_eq!(ipv4(b"::1"), None);
        assert_eq!(parse_ip(" 10.0.0.1 "), Some([10, 0, 0, 1].into()));
    }

    #[test]
    fn rejects_out_of_range_prefixes_and_addresses() {
        assert!(parse("10.96.0.0/33").unwrap_err().contains("0..=32"));
        assert!(parse("fd00::/129").unwrap_err().contains("0..=128"));
        assert!(parse("300.1.1.1/8")
            .unwrap_err()
            .contains("not an IP address"));
        assert!(parse("").unwrap_err().contains("empty"));
        assert!(parse("10.0.0.0").unwrap_err().contains("no prefix length"));
        assert!(parse("10.0.0.0/-1").is_err());
    }

    #[test]
    fn clears_host_bits_and_trims() {
        assert_eq!(n(" 10.19.9.9/24 ").to_string(), "10.19.9.0/24");
        assert_eq!(n("fd00:10:96::1/112").to_string(), "fd00:10:96::/112");
    }

    #[test]
    fn lists_keep_valid_and_report_invalid() {
        let (ok, bad) = parse_list("10.244.0.0/16, fd00:10:244::/56,10.1.0.0/33");
        assert_eq!(ok, vec![n("10.244.0.0/16"), n("fd00:10:244::/56")]);
        assert_eq!(bad.len(), 1);
        let (ok, bad) = parse_list(" ");
        assert!(ok.is_empty() && bad.len() == 1);
    }

    #[test]
    fn covering_prefix_of_addresses() {
        let ips = ["10.19.9.9", "10.19.9.12"].map(|s| s.parse().unwrap());
        // .9 and .12 differ in the low three bits.
        assert_eq!(covering(ips), vec![n("10.19.9.8/29")]);
        let one = ["192.168.1.5".parse().unwrap()];
        assert_eq!(covering(one), vec![n("192.168.1.5/32")]);
        let mixed = ["10.0.0.1", "fd00::1", "fd00::ff"].map(|s| s.parse().unwrap());
        assert_eq!(covering(mixed), vec![n("10.0.0.1/32"), n("fd00::/120")]);
    }

    #[test]
    fn covering_ranges_is_never_narrower_than_its_members() {
        let c = covering_nets(&[n("10.244.0.0/24"), n("10.244.1.0/24")]);
        assert_eq!(c, vec![n("10.244.0.0/23")]);
        let c = covering_nets(&[n("10.0.0.0/8")]);
        assert_eq!(c, vec![n("10.0.0.0/8")]);
    }

    #[test]
    fn sweep_finds_nested_and_ignores_disjoint_and_other_family() {
        let items = [
            n("10.244.1.0/24"),
            n("10.244.0.0/16"),
            n("10.245.0.0/24"),
            n("fd00::/64"),
            n("10.244.1.128/25"),
            n("fd00::/56"),
        ];
        let mut pairs = overlapping_pairs(&items);
        pairs.sort();
        // 10.244.1.0/24 inside /16; .128/25 inside the /24; fd00::/64 inside fd00::/56.
        assert_eq!(pairs, vec![(0, 4), (1, 0), (5, 3)]);
    }

    #[test]
    fn sweep_scales_to_thousands_without_false_pairs() {
        let items: Vec<IpNet> = (0..5000u32)
            .map(|i| IpNet::new(IpAddr::V4((0x0a00_0000 + (i << 8)).into()), 24).unwrap())
            .collect();
        assert!(overlapping_pairs(&items).is_empty());
        let mut dup = items.clone();
        dup.push(items[4321]);
        assert_eq!(overlapping_pairs(&dup).len(), 1);
    }
}
