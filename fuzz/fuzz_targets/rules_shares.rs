//! `parse::rules::shares` on arbitrary backend lists (any f64 probability, NaN and infinities
//! included; any u32 weight): each share in [0, 1], together at most 1; equal shares when
//! neither probabilities nor weights are given; weights divide everything when some weight is
//! positive; an unconditional backend (no probability, or one of at least 1) takes what is
//! left, so that the shares add up to 1.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netcheck::parse::rules::Backend;

#[path = "common/rules.rs"]
mod common;

/// 13 bytes per backend: a tag, 8 bytes for the probability, 4 for the weight.
fn backends(data: &[u8]) -> Vec<Backend> {
    data.chunks(13)
        .map(|c| {
            let mut b = [0u8; 13];
            b[..c.len()].copy_from_slice(c);
            let tag = b[0];
            let raw = u64::from_le_bytes(b[1..9].try_into().unwrap());
            let w = u32::from_le_bytes(b[9..13].try_into().unwrap());
            let probability = match tag & 3 {
                0 => None,
                1 => Some(f64::from_bits(raw)),
                // iptables' own granularity: a fraction of 2^31
                2 => Some((raw as u32 & 0x7fff_ffff) as f64 / 2147483648.0),
                // kube-proxy's 1/(endpoints left), as printed with 11 decimals
                _ => {
                    let left = (raw % 1000 + 1) as f64;
                    Some(format!("{:.11}", 1.0 / left).parse().unwrap())
                }
            };
            Backend {
                addr: "10.0.0.1:80".parse().unwrap(),
                probability,
                weight: (tag & 0x0c == 0x0c).then_some(w),
                chain: None,
                line: 1,
                text: String::new(),
            }
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    if data.len() > 13 * 4096 {
        return;
    }
    let b = backends(data);
    let s = common::check_shares(&b);
    let sum: f64 = s.iter().sum();
    if b.iter().any(|x| x.weight.is_some()) {
        let total: u64 = b.iter().map(|x| x.weight.unwrap_or(0) as u64).sum();
        if total > 0 {
            assert!((sum - 1.0).abs() <= 1e-9, "weights: sum {sum}");
        } else {
            assert!(s.iter().all(|x| *x == 0.0));
        }
        for (x, y) in b.iter().zip(&s) {
            if x.weight.unwrap_or(0) == 0 {
                assert_eq!(*y, 0.0);
            }
        }
    } else if b.iter().all(|x| x.probability.is_none()) {
        for x in &s {
            assert_eq!(*x, 1.0 / b.len() as f64);
        }
        if !b.is_empty() {
            assert!((sum - 1.0).abs() <= 1e-9, "equal shares: sum {sum}");
        }
    } else if b.iter().any(|x| x.probability.is_none_or(|p| p >= 1.0)) {
        assert!(
            (sum - 1.0).abs() <= 1e-9,
            "an unconditional backend, yet sum {sum}"
        );
    }
});
