//! Reading kube-proxy and CNI logs. Matches the message text only: the file-name prefix of klog
//! lines changed across versions (server.go, server_others.go, server_linux.go).

use regex::Regex;
use std::sync::LazyLock;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProxyLog {
    /// The proxier kube-proxy says it is using, lower-case (iptables, ipvs, nftables, ...).
    pub running: Option<String>,
    /// The log line that says so.
    pub running_line: Option<String>,
    /// kube-proxy said the configured mode was empty and it assumed the default.
    pub empty_mode_line: Option<String>,
    /// ipvs was asked for and could not be used (line), whatever happened next.
    pub ipvs_unusable_line: Option<String>,
    /// The error kube-proxy exited with, if the log ends in one.
    pub fatal_line: Option<String>,
    /// Version kube-proxy printed, when it did.
    pub version: Option<String>,
    /// ipvs deprecation warning (1.35+).
    pub deprecation_line: Option<String>,
}

static USING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)\bUsing (iptables|ipvs|nftables|userspace|kernelspace|winkernel|winuserspace) Proxier\b"#).unwrap()
});
static DUALSTACK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"Creating dualStackProxier for (iptables|ipvs|nftables)"#).unwrap()
});
static EMPTY_MODE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"Unknown proxy mode(?: "")?,? assuming iptables proxy|"Using iptables proxy""#)
        .unwrap()
});
static IPVS_UNUSABLE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?i)can't use the IPVS proxier"#).unwrap());
static FATAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"^F\d{4} |"Error running ProxyServer"|^Error: |failed complete:|\berror running ProxyServer\b"#).unwrap()
});
static VERSION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#""Version info" version="(v[0-9][^"]*)"|Version: (v[0-9]\S*)"#).unwrap()
});
static DEPRECATED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?i)ipvs.*deprecat|deprecat.*ipvs"#).unwrap());

fn clip(line: &str) -> String {
    const MAX: usize = 400;
    let line = line.trim_end();
    if line.len() <= MAX {
        return line.to_string();
    }
    let mut end = MAX;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &line[..end])
}

/// Reads the start of a kube-proxy log. Later `Using ... Proxier` lines win over earlier ones:
/// after a failed ipvs start an old kube-proxy logs the iptables proxier it fell back to.
pub fn kube_proxy(text: &str) -> ProxyLog {
    let mut out = ProxyLog::default();
    for line in text.lines() {
        if let Some(c) = USING.captures(line) {
            let m = c[1].to_ascii_lowercase();
            let m = if m == "winkernel" {
                "kernelspace".to_string()
            } else {
                m
            };
            out.running = Some(m);
            out.running_line = Some(clip(line));
        } else if let Some(c) = DUALSTACK.captures(line) {
            if out.running.is_none() {
                out.running = Some(c[1].to_string());
                out.running_line = Some(clip(line));
            }
        }
        if EMPTY_MODE.is_match(line) && out.empty_mode_line.is_none() {
            out.empty_mode_line = Some(clip(line));
        }
        if IPVS_UNUSABLE.is_match(line) && out.ipvs_unusable_line.is_none() {
            out.ipvs_unusable_line = Some(clip(line));
        }
        if FATAL.is_match(line) {
            out.fatal_line = Some(clip(line));
        }
        if let Some(c) = VERSION.captures(line) {
            out.version = c.get(1).or(c.get(2)).map(|m| m.as_str().to_string());
        }
        if DEPRECATED.is_match(line) && out.deprecation_line.is_none() {
            out.deprecation_line = Some(clip(line));
        }
    }
    out
}

static WEAVE_RANGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"Command line options: map\[.*?\bipalloc-range:([^\s\]]+)"#).unwrap()
});

/// The `ipalloc-range` weave printed in its `Command line options: map[...]` line.
pub fn weave_ipalloc_range(text: &str) -> Option<(String, String)> {
    text.lines()
        .find_map(|l| WEAVE_RANGE.captures(l).map(|c| (c[1].to_string(), clip(l))))
}

/// Reads `KEY=VALUE` lines such as /run/flannel/subnet.env.
pub fn env_file(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| l.trim().split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().trim_matches('"').to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED_126: &str = r#"I0202 05:52:21.403256       1 node.go:163] Successfully retrieved node IP: 10.19.9.12
I0202 05:52:21.403381       1 server_others.go:109] "Detected node IP" address="10.19.9.12"
I0202 05:52:21.403426       1 server_others.go:535] "Using iptables proxy"
I0202 05:52:21.484235       1 server_others.go:176] "Using iptables Proxier"
I0202 05:52:21.484287       1 server_others.go:183] "kube-proxy running in dual-stack mode" ipFamily=IPv4
I0202 05:52:21.484297       1 server_others.go:184] "Creating dualStackProxier for iptables"
I0202 05:52:21.721455       1 server.go:655] "Version info" version="v1.26.0""#;

    #[test]
    fn seed_lab_log_is_iptables_with_empty_mode() {
        let p = kube_proxy(SEED_126);
        assert_eq!(p.running.as_deref(), Some("iptables"));
        assert!(p
            .running_line
            .unwrap()
            .contains(r#""Using iptables Proxier""#));
        assert!(p.empty_mode_line.unwrap().contains("Using iptables proxy"));
        assert_eq!(p.version.as_deref(), Some("v1.26.0"));
        assert!(p.fatal_line.is_none() && p.ipvs_unusable_line.is_none());
    }

    #[test]
    fn old_klog_ipvs_fallback() {
        let log = "I0101 00:00:00.000000       1 server_others.go:150] Using ipvs Proxier.\n\
E0101 00:00:00.000000       1 server_others.go:230] Can't use the IPVS proxier: IPVS proxier will not be used because the following required kernel modules are not loaded: [ip_vs_rr]\n\
I0101 00:00:00.000000       1 server_others.go:143] Using iptables Proxier.";
        let p = kube_proxy(log);
        assert_eq!(p.running.as_deref(), Some("iptables"));
        assert!(p.ipvs_unusable_line.is_some());
    }

    #[test]
    fn old_klog_unknown_empty_mode() {
        let p = kube_proxy(
            r#"W0101 00:00:00 1 server_others.go:559] Unknown proxy mode "", assuming iptables proxy"#,
        );
        assert!(p.empty_mode_line.is_some());
        let p = kube_proxy(
            r#"I0101 1 server_others.go:206] "Unknown proxy mode, assuming iptables proxy" proxyMode="""#,
        );
        assert!(p.empty_mode_line.is_some());
    }

    #[test]
    fn new_ipvs_failure_is_fatal_without_fallback() {
        let log = r#"E0612 1 run.go:74] "command failed" err="can't use the IPVS proxier: error getting ipset version, error: executable file not found in $PATH"
E0612 1 server.go:558] "Error running ProxyServer" err="can't use the IPVS proxier: error getting ipset version""#;
        let p = kube_proxy(log);
        assert!(p.running.is_none());
        assert!(p.ipvs_unusable_line.is_some());
        assert!(p.fatal_line.unwrap().contains("Error running ProxyServer"));
    }

    #[test]
    fn nftables_windows_and_deprecation() {
        assert_eq!(
            kube_proxy(r#"I1 server_linux.go:1] "Using nftables Proxier""#)
                .running
                .as_deref(),
            Some("nftables")
        );
        assert_eq!(
            kube_proxy("I1 server_windows.go:1] Using Kernelspace Proxier.")
                .running
                .as_deref(),
            Some("kernelspace")
        );
        let p = kube_proxy("I1 server_linux.go:1] \"Using ipvs Proxier\"\nE1 server_linux.go:2] \"The ipvs proxier is now deprecated and may be removed in a future release. Please use 'nftables' instead.\"");
        assert_eq!(p.running.as_deref(), Some("ipvs"));
        assert!(p.deprecation_line.is_some());
    }

    #[test]
    fn weave_range_from_seed_line() {
        let l = "INFO: 2023/02/02 05:52:23.763171 Command line options: map[conn-limit:200 datapath:datapath ipalloc-init:consensus=1 ipalloc-range:10.244.0.0/16 metrics-addr:0.0.0.0:6782 port:6783]";
        assert_eq!(weave_ipalloc_range(l).unwrap().0, "10.244.0.0/16");
        assert!(weave_ipalloc_range("INFO: weave 2.8.1").is_none());
        let last = "Command line options: map[ipalloc-range:10.32.0.0/12]";
        assert_eq!(weave_ipalloc_range(last).unwrap().0, "10.32.0.0/12");
    }

    #[test]
    fn garbage_never_panics_and_long_lines_are_clipped() {
        let long = format!("\"Using ipvs Proxier\" {}", "é".repeat(1000));
        let p = kube_proxy(&long);
        assert!(p.running_line.unwrap().len() < 450);
        assert_eq!(kube_proxy("\u{fffd}\u{0}\n\n"), ProxyLog::default());
    }

    #[test]
    fn flannel_subnet_env() {
        let kv =
            env_file("FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nbad line\n");
        assert_eq!(kv[0], ("FLANNEL_NETWORK".into(), "10.244.0.0/16".into()));
        assert_eq!(kv.len(), 2);
    }
}
