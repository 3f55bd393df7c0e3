//! Invariants every rule-dump parser's answer must keep, whatever the input. Shared by the
//! `rules_*` targets (`#[path]`-included; not a target itself).
#![allow(dead_code)]

use netcheck::parse::rules::{shares, Backend, Entry, Format, ParseError, Programmed};

/// What kind of evidence text a format keeps for an entry.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Text {
    /// iptables: the dump's line, trimmed, whole.
    Line,
    /// ipvs: the dump's line, trimmed, clipped by `nft::clip`.
    ClippedLine,
    /// `nft list ruleset`: a prefix of the dump's trimmed line (`# handle N` cut off), clipped.
    ClippedPrefix,
    /// `nft -j`: the JSON of the element or rule, whitespace collapsed, clipped.
    ClippedJson,
}

/// `nft::clip` keeps 400 characters and adds `…`.
pub const CLIP_CHARS: usize = 400;

pub fn text_kind(f: Format) -> Text {
    match f {
        Format::IptablesSave | Format::IptablesList => Text::Line,
        Format::IpvsadmList | Format::IpvsadmSave => Text::ClippedLine,
        Format::Nft => Text::ClippedPrefix,
        Format::NftJson => Text::ClippedJson,
    }
}

/// The text without the ellipsis `clip` adds, checking the bound on the way.
fn unclipped(t: &str) -> &str {
    let n = t.chars().count();
    assert!(n <= CLIP_CHARS + 1, "evidence text not clipped: {n} chars");
    if n == CLIP_CHARS + 1 {
        t.strip_suffix('…')
            .unwrap_or_else(|| panic!("401 chars without the ellipsis: {t:?}"))
    } else {
        t
    }
}

/// Checks an entry's (line, text) against the dump.
fn evidence(kind: Text, dump: &[&str], line: usize, text: &str, what: &str) {
    assert!(
        line >= 1 && line <= dump.len(),
        "{what}: line {line} outside 1..={}",
        dump.len()
    );
    let src = dump[line - 1].trim();
    match kind {
        Text::Line => assert_eq!(text, src, "{what}: text is not line {line}'s"),
        Text::ClippedLine => {
            let core = unclipped(text);
            if core.len() == text.len() {
                assert_eq!(text, src, "{what}: text is not line {line}'s");
            } else {
                assert!(
                    src.starts_with(core),
                    "{what}: text is not line {line}'s start"
                );
            }
        }
        Text::ClippedPrefix => {
            let core = unclipped(text);
            assert!(
                src.starts_with(core),
                "{what}: text {text:?} is not a prefix of line {line} {src:?}"
            );
        }
        Text::ClippedJson => {
            unclipped(text);
        }
    }
}

/// Shares of any backend list: each in [0, 1], together at most 1.
pub fn check_shares(backends: &[Backend]) -> Vec<f64> {
    let s = shares(backends);
    assert_eq!(s.len(), backends.len());
    for x in &s {
        assert!(
            x.is_finite() && (0.0..=1.0).contains(x),
            "share {x} outside [0, 1]: {s:?} of {backends:?}"
        );
    }
    let sum: f64 = s.iter().sum();
    assert!(
        sum <= 1.0 + 1e-9,
        "shares sum to {sum}: {s:?} of {backends:?}"
    );
    s
}

/// Everything a parser's answer promises, for a dump `text` of format `f`.
pub fn check(f: Format, text: &str, p: &Programmed) {
    let dump: Vec<&str> = text.lines().collect();
    let kind = text_kind(f);
    assert_eq!(
        p.lines,
        dump.len(),
        "lines read is not the dump's line count"
    );
    match f {
        // `nft -j` counts kube-proxy's objects (table, chains, rules, sets, maps), not lines:
        // each is a JSON object of the "nftables" array, so at most one per `{`.
        Format::NftJson => {
            let objects = text.bytes().filter(|b| *b == b'{').count();
            assert!(
                p.kube_lines <= objects,
                "{} kube objects, {objects} `{{`",
                p.kube_lines
            );
        }
        _ => assert!(
            p.kube_lines <= p.lines,
            "kube_lines {} > lines {}",
            p.kube_lines,
            p.lines
        ),
    }
    // nft and ipvs bound their notes (Notes::MAX = 40, plus one "more notes" line).
    if matches!(
        f,
        Format::Nft | Format::NftJson | Format::IpvsadmList | Format::IpvsadmSave
    ) {
        assert!(p.notes.len() <= 41, "{} notes", p.notes.len());
    }
    for fe in &p.frontends {
        evidence(kind, &dump, fe.line, &fe.text, "frontend");
        assert!(
            !fe.protocol.bytes().any(|b| b.is_ascii_uppercase()),
            "protocol not lowercase: {:?}",
            fe.protocol
        );
        if fe.entry == Entry::NodePort {
            assert_eq!(fe.ip, None, "a NodePort with an address");
        }
        for b in &fe.backends {
            evidence(kind, &dump, b.line, &b.text, "backend");
        }
        check_shares(&fe.backends);
        match f {
            Format::IptablesSave | Format::IptablesList => {
                for b in &fe.backends {
                    assert_eq!(b.weight, None);
                    assert!(
                        b.chain
                            .as_deref()
                            .is_some_and(|c| c.starts_with("KUBE-SEP-")),
                        "iptables backend chain {:?}",
                        b.chain
                    );
                }
            }
            Format::Nft | Format::NftJson => {
                assert!(["tcp", "udp", "sctp"].contains(&fe.protocol.as_str()));
                assert_eq!(fe.ip.is_none(), fe.entry == Entry::NodePort);
                for b in &fe.backends {
                    assert_eq!((b.probability, b.weight), (None, None));
                    assert!(b.chain.is_some());
                }
            }
            Format::IpvsadmList | Format::IpvsadmSave => {
                // ipvs does not name the Service: every virtual server is a ClusterIp entry.
                assert!(["tcp", "udp", "sctp"].contains(&fe.protocol.as_str()));
                assert_eq!(fe.entry, Entry::ClusterIp);
                assert!(fe.service.is_none() && fe.chain.is_none() && fe.ip.is_some());
                // real servers follow their virtual server, in dump order
                let mut last = fe.line;
                for b in &fe.backends {
                    assert!(b.line > last, "real server line {} after {last}", b.line);
                    last = b.line;
                    assert_eq!((b.probability, &b.chain), (None, &None));
                }
            }
        }
    }
    if matches!(f, Format::Nft | Format::NftJson) {
        assert!(
            p.frontends.windows(2).all(|w| w[0].line <= w[1].line),
            "nft entries not in dump order"
        );
    }
    if f == Format::IpvsadmSave {
        // "virtual server … added twice: the second is skipped"
        for (i, a) in p.frontends.iter().enumerate() {
            for b in &p.frontends[i + 1..] {
                assert!(
                    (&a.protocol, a.ip, a.port) != (&b.protocol, b.ip, b.port),
                    "virtual server {:?}:{} twice",
                    a.ip,
                    a.port
                );
            }
        }
    }
    for (i, m) in p.masquerade.iter().enumerate() {
        // nft: when the clipped rule no longer shows the range, it is appended.
        let shown = match (m.text.rfind(" (saddr != "), f) {
            (Some(at), Format::Nft | Format::NftJson)
                if m.text.ends_with(", jump mark-for-masquerade)") =>
            {
                &m.text[..at]
            }
            _ => m.text.as_str(),
        };
        evidence(kind, &dump, m.line, shown, "masquerade");
        assert!(
            !p.masquerade[..i].iter().any(|o| o.range == m.range),
            "masquerade range {} twice",
            m.range
        );
    }
    if matches!(f, Format::IpvsadmList | Format::IpvsadmSave) {
        assert!(p.masquerade.is_empty());
    }
}

/// A parser's error: a line within the dump (1 for an empty one), a message. (`parse` alone
/// gives line 0, for a text whose format is not detected.)
pub fn check_error(f: Format, text: &str, e: &ParseError) {
    let n = text.lines().count();
    // `nft -j` places a JSON error where the JSON ends: after a final newline that is the
    // line past the last one, as serde_json counts.
    let last = if f == Format::NftJson {
        n + 1
    } else {
        n.max(1)
    };
    assert!(
        e.line >= 1 && e.line <= last,
        "{f:?} error at line {} of {n}: {e}",
        e.line
    );
    assert!(!e.message.is_empty());
    if matches!(f, Format::IptablesSave | Format::IptablesList) {
        // the offending line is quoted clipped to 120 bytes
        assert!(
            e.message.len() <= 400,
            "{} bytes: {}",
            e.message.len(),
            e.message
        );
    }
}

/// Runs a parser and checks its answer or its error.
pub fn run(
    f: Format,
    text: &str,
    parse: fn(&str) -> Result<Programmed, ParseError>,
) -> Option<Programmed> {
    match parse(text) {
        Ok(p) => {
            check(f, text, &p);
            Some(p)
        }
        Err(e) => {
            check_error(f, text, &e);
            None
        }
    }
}

/// Inputs are bytes; the parsers take text. Large dumps are linear but slow under ASan.
pub fn text(data: &[u8]) -> Option<std::borrow::Cow<'_, str>> {
    (data.len() <= 256 * 1024).then(|| String::from_utf8_lossy(data))
}
