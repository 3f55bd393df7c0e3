//! Finding flags in a container's argv the way Go's pflag reads them.

/// One occurrence of a flag: its value and the text it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct FlagHit {
    pub value: String,
    /// The flag as written, for evidence (`--service-cluster-ip-range=10.96.0.0/12`).
    pub text: String,
}

/// Splits argv into words. Elements holding a whole shell command (`sh -c "exec kube-proxy
/// --v=2 ..."`, as GCE static pods do) are split on whitespace, honouring simple quotes.
pub fn words<'a>(argv: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out = Vec::new();
    for a in argv {
        if !a.contains(char::is_whitespace) {
            out.push(a.to_string());
            continue;
        }
        let mut cur = String::new();
        let mut quote: Option<char> = None;
        for c in a.chars() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (None, '"' | '\'') => quote = Some(c),
                (None, c) if c.is_whitespace() => {
                    if !cur.is_empty() {
                        out.push(std::mem::take(&mut cur));
                    }
                }
                (_, c) => cur.push(c),
            }
        }
        if !cur.is_empty() {
            out.push(cur);
        }
    }
    out
}

/// Every occurrence of `--name` (or `-name`) in `--name=value` or `--name value` form.
/// A flag followed by another flag, or by nothing, is a boolean `true`.
pub fn all(words: &[String], name: &str) -> Vec<FlagHit> {
    let mut hits = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = words[i].as_str();
        let bare = w.strip_prefix("--").or_else(|| w.strip_prefix('-'));
        if let Some(bare) = bare {
            if let Some(v) = bare.strip_prefix(name).and_then(|r| r.strip_prefix('=')) {
                hits.push(FlagHit {
                    value: v.to_string(),
                    text: w.to_string(),
                });
            } else if bare == name {
                match words.get(i + 1) {
                    Some(next) if !next.starts_with('-') => {
                        hits.push(FlagHit {
                            value: next.clone(),
                            text: format!("{w} {next}"),
                        });
                        i += 1;
                    }
                    _ => hits.push(FlagHit {
                        value: "true".into(),
                        text: w.to_string(),
                    }),
                }
            }
        }
        i += 1;
    }
    hits
}

/// The value a Go program would use: the last occurrence wins.
pub fn last(words: &[String], name: &str) -> Option<FlagHit> {
    all(words, name).pop()
}

/// `key=value` pairs passed through a wrapper flag, as k3s does with
/// `--kube-proxy-arg=proxy-mode=ipvs` or `--kube-controller-manager-arg cluster-cidr=...`.
pub fn passthrough(words: &[String], wrapper: &str, key: &str) -> Option<FlagHit> {
    all(words, wrapper).into_iter().rev().find_map(|h| {
        let inner = h.value.trim_start_matches('-');
        inner
            .strip_prefix(key)
            .and_then(|r| r.strip_prefix('='))
            .map(|v| FlagHit {
                value: v.to_string(),
                text: h.text.clone(),
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &[&str]) -> Vec<String> {
        words(s.iter().copied())
    }

    #[test]
    fn both_forms_and_last_wins() {
        let a = w(&[
            "kube-apiserver",
            "--service-cluster-ip-range=10.0.0.0/24",
            "--secure-port",
            "6443",
            "--service-cluster-ip-range",
            "10.96.0.0/12",
        ]);
        let hits = all(&a, "service-cluster-ip-range");
        assert_eq!(hits.len(), 2);
        assert_eq!(
            last(&a, "service-cluster-ip-range").unwrap().value,
            "10.96.0.0/12"
        );
        assert_eq!(last(&a, "secure-port").unwrap().value, "6443");
    }

    #[test]
    fn prefix_of_another_flag_is_not_a_match() {
        let a = w(&["--cluster-cidr-foo=1", "--cluster-cidr=10.244.0.0/16"]);
        assert_eq!(all(&a, "cluster-cidr").len(), 1);
        assert!(last(&a, "cluster").is_none());
    }

    #[test]
    fn booleans_and_single_dash() {
        let a = w(&["-allocate-node-cidrs", "--v=2", "--masquerade-all"]);
        assert_eq!(last(&a, "allocate-node-cidrs").unwrap().value, "true");
        assert_eq!(last(&a, "masquerade-all").unwrap().value, "true");
    }

    #[test]
    fn shell_wrapped_command_lines() {
        let a = w(&["/bin/sh", "-c", "exec kube-proxy --proxy-mode=ipvs --cluster-cidr '10.64.0.0/14' 1>>/var/log/kube-proxy.log 2>&1"]);
        assert_eq!(last(&a, "proxy-mode").unwrap().value, "ipvs");
        assert_eq!(last(&a, "cluster-cidr").unwrap().value, "10.64.0.0/14");
    }

    #[test]
    fn passthrough_args() {
        let a = w(&[
            "server",
            "--kube-proxy-arg=proxy-mode=ipvs",
            "--kube-proxy-arg",
            "metrics-bind-address=0.0.0.0",
        ]);
        assert_eq!(
            passthrough(&a, "kube-proxy-arg", "proxy-mode")
                .unwrap()
                .value,
            "ipvs"
        );
        assert_eq!(
            passthrough(&a, "kube-proxy-arg", "metrics-bind-address")
                .unwrap()
                .value,
            "0.0.0.0"
        );
        assert!(passthrough(&a, "kube-proxy-arg", "cluster-cidr").is_none());
    }

    #[test]
    fn empty_and_odd_input_does_not_panic() {
        assert!(last(&w(&[]), "x").is_none());
        // Degenerate tokens must simply not panic; `--=` is an empty flag name with an empty value.
        assert_eq!(
            all(&w(&["--", "-", "--="]), "")
                .last()
                .map(|h| h.value.as_str()),
            Some("")
        );
        assert_eq!(w(&["a \"b c", "  "]), vec!["a", "b c"]);
    }
}
