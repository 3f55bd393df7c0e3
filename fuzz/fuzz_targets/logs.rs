//! kube-proxy / weave / flannel log and env-file readers on arbitrary text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netcheck::parse::logs;

/// `clip` keeps at most 400 bytes of a line, plus the 3-byte ellipsis.
const MAX_LINE: usize = 400 + '…'.len_utf8();

fn clipped(l: &Option<String>) {
    if let Some(l) = l {
        assert!(l.len() <= MAX_LINE, "evidence line not clipped: {} bytes", l.len());
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);

    let p = logs::kube_proxy(&text);
    if let Some(m) = &p.running {
        assert!(
            ["iptables", "ipvs", "nftables", "userspace", "kernelspace", "winuserspace"]
                .contains(&m.as_str()),
            "unexpected proxier {m:?}"
        );
        assert!(p.running_line.is_some());
    }
    for l in [
        &p.running_line,
        &p.empty_mode_line,
        &p.ipvs_unusable_line,
        &p.fatal_line,
        &p.deprecation_line,
    ] {
        clipped(l);
    }
    if let Some(v) = &p.version {
        assert!(v.starts_with('v'));
    }

    if let Some((range, line)) = logs::weave_ipalloc_range(&text) {
        assert!(!range.is_empty());
        assert!(!range.contains(char::is_whitespace) && !range.contains(']'));
        assert!(line.len() <= MAX_LINE);
        // What netcheck does next with the value.
        let _ = netcheck::cidr::parse_list(&range);
    }

    for (k, v) in logs::env_file(&text) {
        assert!(!k.contains('\n') && !v.contains('\n'));
        let _ = netcheck::cidr::parse(&v);
    }
});
