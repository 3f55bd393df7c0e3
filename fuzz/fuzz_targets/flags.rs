//! argv readers (pflag-style) and the k3s/RKE2 node-args annotation on arbitrary input.
//! The input is split on NUL into argv elements; the first element is also used as a flag name.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netcheck::parse::{config, flags};

const NAMES: &[&str] = &[
    "cluster-cidr",
    "service-cluster-ip-range",
    "proxy-mode",
    "allocate-node-cidrs",
    "node-cidr-mask-size",
    "kube-proxy-arg",
    "v",
    "",
];

fn check(words: &[String], name: &str) {
    let all = flags::all(words, name);
    assert!(all.len() <= words.len());
    for h in &all {
        // Evidence must show where the value came from (booleans have no written value).
        assert!(
            h.value == "true" || h.text.contains(&h.value),
            "hit {h:?} does not contain its value"
        );
    }
    assert_eq!(flags::last(words, name), all.last().cloned());
    for (wrapper, key) in [
        ("kube-proxy-arg", name),
        ("kube-controller-manager-arg", "cluster-cidr"),
        (name, "proxy-mode"),
    ] {
        if let Some(h) = flags::passthrough(words, wrapper, key) {
            assert!(h.text.contains(&h.value), "passthrough {h:?}");
        }
    }
}

fn run(argv: &[&str], extra: &str) {
    let words = flags::words(argv.iter().copied());
    for w in &words {
        // Only elements without whitespace pass through unsplit, so an empty word is one of them.
        if w.is_empty() {
            assert!(argv.contains(&""));
        }
    }
    for name in NAMES.iter().copied().chain([extra]) {
        check(&words, name);
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let argv: Vec<&str> = text.split('\0').collect();
    run(&argv, argv[0]);
    let lines: Vec<&str> = text.lines().collect();
    run(&lines, lines.first().copied().unwrap_or(""));

    if let Ok(args) = config::node_args(&text) {
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&argv, "cluster-cidr");
    }
});
