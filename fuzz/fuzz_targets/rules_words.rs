//! `parse::rules::words`, the shell-like splitting of an `iptables-save` rule line (double
//! quotes, backslash escapes inside them). The input is read twice: as one line, and as words
//! (separated by NUL) that are quoted the way iptables-save quotes and must split back to
//! themselves.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netcheck::parse::rules::words;
use std::borrow::Cow;

/// iptables-save's quoting: `"…"`, with `\` and `"` escaped by a backslash.
fn quote(w: &str) -> String {
    let mut q = String::with_capacity(w.len() + 2);
    q.push('"');
    for c in w.chars() {
        if c == '\\' || c == '"' {
            q.push('\\');
        }
        q.push(c);
    }
    q.push('"');
    q
}

fn needs_quotes(w: &str) -> bool {
    w.is_empty() || w.bytes().any(|b| b.is_ascii_whitespace() || b == b'"')
}

fuzz_target!(|data: &[u8]| {
    if data.len() > 64 * 1024 {
        return;
    }
    // The input as a rule line.
    let line = String::from_utf8_lossy(data);
    match words(&line) {
        Ok(ws) => {
            if !line.contains('"') {
                let plain: Vec<&str> = line.split_ascii_whitespace().collect();
                assert_eq!(
                    ws, plain,
                    "without quotes, words are the whitespace-separated ones"
                );
            }
            for w in &ws {
                if let Cow::Borrowed(b) = w {
                    assert!(!b.is_empty(), "an empty unquoted word");
                    assert!(
                        !b.bytes().any(|c| c.is_ascii_whitespace() || c == b'"'),
                        "unquoted word {b:?} holds a space or a quote"
                    );
                }
            }
            assert!(ws.len() <= line.len());
        }
        Err(e) => {
            assert!(line.contains('"'), "an error without a quote: {e}");
            assert!(!e.is_empty());
        }
    }

    // Words quoted as iptables-save writes them split back to themselves.
    let parts: Vec<String> = data
        .split(|b| *b == 0)
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect();
    let all: Vec<String> = parts.iter().map(|p| quote(p)).collect();
    let joined = all.join(" ");
    let got = words(&joined).expect("quoted words always split");
    assert_eq!(got, parts, "quoted words");
    let some: Vec<String> = parts
        .iter()
        .map(|p| if needs_quotes(p) { quote(p) } else { p.clone() })
        .collect();
    let joined = some.join("\t");
    let got = words(&joined).expect("quoted words always split");
    assert_eq!(got, parts, "words quoted where needed");
});
