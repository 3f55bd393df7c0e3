//! CIDR / address parsing and range arithmetic on arbitrary text, results fed onward.
#![no_main]

use ipnet::IpNet;
use libfuzzer_sys::fuzz_target;
use netcheck::cidr;
use std::net::IpAddr;

fn max_len(n: &IpNet) -> u8 {
    if n.addr().is_ipv4() {
        32
    } else {
        128
    }
}

fn checked(n: IpNet) -> IpNet {
    assert!(n.prefix_len() <= max_len(&n));
    assert_eq!(n, n.trunc(), "host bits left in {n}");
    let again = cidr::parse(&n.to_string()).unwrap_or_else(|e| panic!("{n} does not re-parse: {e}"));
    assert_eq!(again, n);
    n
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);

    let mut nets: Vec<IpNet> = Vec::new();
    let mut ips: Vec<IpAddr> = Vec::new();

    let (ok, bad) = cidr::parse_list(&text);
    assert!(!ok.is_empty() || !bad.is_empty());
    nets.extend(ok.into_iter().map(checked));

    for line in text.lines().take(256) {
        if let Ok(n) = cidr::parse(line) {
            nets.push(checked(n));
        }
        if let Some((ip, len)) = cidr::parse_addr(line) {
            assert!(len <= if ip.is_ipv4() { 32 } else { 128 });
            ips.push(ip);
        }
        if let Some(ip) = cidr::parse_ip(line) {
            ips.push(ip);
        }
        for word in line.split_whitespace().take(64) {
            if let Ok(n) = cidr::parse(word) {
                nets.push(checked(n));
            }
            if let Some(ip) = cidr::parse_ip(word) {
                ips.push(ip);
            }
        }
    }
    nets.truncate(512);
    ips.truncate(512);

    // covering: one prefix per family, containing every address of that family.
    let cov = cidr::covering(ips.iter().copied());
    assert!(cov.len() <= 2);
    for c in &cov {
        let c = checked(*c);
        for ip in ips.iter().filter(|ip| ip.is_ipv4() == c.addr().is_ipv4()) {
            assert!(c.contains(ip), "{c} does not cover {ip}");
        }
    }

    // covering_nets: never narrower than its members.
    let covn = cidr::covering_nets(&nets);
    assert!(covn.len() <= 2);
    for c in &covn {
        let c = checked(*c);
        for n in nets.iter().filter(|n| cidr::same_family(n, &c)) {
            assert!(c.contains(n), "{c} does not cover {n}");
            assert!(c.prefix_len() <= n.prefix_len());
        }
        assert!(cidr::within(&covn, &c));
    }

    // overlapping_pairs: every pair overlaps, the outer one encloses the inner one, and every
    // range with an encloser (an identical earlier one counts) is reported exactly once.
    let pairs = cidr::overlapping_pairs(&nets);
    let mut inner_seen = vec![false; nets.len()];
    for &(outer, inner) in &pairs {
        assert!(outer < nets.len() && inner < nets.len() && outer != inner);
        assert!(cidr::overlap(&nets[outer], &nets[inner]));
        assert!(nets[outer].contains(&nets[inner]));
        assert!(!inner_seen[inner], "{inner} reported twice");
        inner_seen[inner] = true;
    }
    if nets.len() <= 128 {
        for i in 0..nets.len() {
            let enclosed = (0..nets.len()).any(|j| {
                j != i
                    && nets[j].contains(&nets[i])
                    && (nets[j] != nets[i] || j < i)
            });
            assert_eq!(enclosed, inner_seen[i], "range {} ({}) in {:?}", i, nets[i], nets);
        }
    }

    for ip in &ips {
        let _ = cidr::contains_ip(&nets, ip);
    }
    let joined = cidr::join(&nets);
    if !nets.is_empty() {
        let (again, bad) = cidr::parse_list(&joined);
        assert!(bad.is_empty(), "join does not re-parse: {bad:?}");
        assert!(cidr::same_set(&again, &nets));
    }
});
