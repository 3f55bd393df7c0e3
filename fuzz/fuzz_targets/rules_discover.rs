//! A rule dump of node01 in the CKA lab (examples/cka-lab.json) through
//! `discover::rules::discover` (compared with the API) and `discover::rules::trace` (every
//! Service of the lab, and my-service on node01 alone). Inputs over 16 KiB are skipped. Invariants: the node's counts are
//! the parser's, at most as many agreeing entries as compared ones, every problem's evidence is
//! a dump line, and each traced hop's share is in [0, 1] with a path's shares adding up to at
//! most 1.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netcheck::collect::snapshot;
use netcheck::discover::{self, Hints};
use netcheck::model::{Cluster, RuleSet};
use netcheck::parse::rules;
use netcheck::report::{CidrAnswer, ProxyAnswer, Scope};
use std::cell::RefCell;

const LAB: &[u8] = include_bytes!("../../examples/cka-lab.json");

thread_local! {
    static STATE: RefCell<(Cluster, CidrAnswer, ProxyAnswer, Vec<(String, String)>)> = RefCell::new({
        let c = snapshot::from_reader(LAB, "cka-lab.json").expect("the lab loads");
        let cidrs = discover::cidrs::discover(&c, &Hints::default());
        let proxy = discover::proxy::discover(&c);
        let services = c
            .services
            .iter()
            .map(|s| (s.metadata.ns().to_string(), s.metadata.name.clone()))
            .collect();
        (c, cidrs, proxy, services)
    });
}

fuzz_target!(|data: &[u8]| {
    // Discovery and six traces per input: dumps up to 16 KiB keep it at a useful speed.
    if data.len() > 16 * 1024 {
        return;
    }
    let text = String::from_utf8_lossy(data).into_owned();
    STATE.with(|s| {
        let (c, cidrs, proxy, services) = &mut *s.borrow_mut();
        c.rule_sets = vec![RuleSet {
            node: "node01".into(),
            source: "fuzz".into(),
            text,
        }];
        let text = &c.rule_sets[0].text;
        let parsed = rules::parse(text);

        let answer = discover::rules::discover(c, cidrs, proxy);
        assert!(answer.unknown.is_none());
        assert_eq!(answer.nodes.len(), 1);
        let n = &answer.nodes[0];
        assert_eq!(n.node, "node01");
        match &parsed {
            Err(_) => assert!(n.error.is_some() && n.format.is_none()),
            Ok((_, p)) => {
                assert!(n.error.is_none());
                assert_eq!((n.lines, n.kube_lines), (p.lines, p.kube_lines));
                assert_eq!(n.entries, p.frontends.len());
                assert!(n.agreeing <= n.compared, "{} of {}", n.agreeing, n.compared);
                for pr in &n.problems {
                    for e in &pr.evidence {
                        assert!(e.starts_with("line "), "evidence {e:?}");
                    }
                }
            }
        }

        // Every Service of the lab (on every node), and my-service on node01 alone.
        let scopes = services
            .iter()
            .map(|(ns, name)| (ns.as_str(), name.as_str(), None))
            .chain([("default", "my-service", Some("node01"))]);
        for (ns, name, node) in scopes {
            let scope = Scope {
                namespace: Some(ns.to_string()),
                service: Some(name.to_string()),
                port: None,
                node: node.map(str::to_string),
            };
            let Ok(t) = discover::rules::trace(c, proxy, &scope) else {
                continue;
            };
            for path in &t.paths {
                if path.observed {
                    assert_eq!(path.node.as_deref(), Some("node01"));
                    assert!(parsed.is_ok());
                }
                let mut sum = 0.0;
                for h in &path.hops {
                    assert!(
                        h.share.is_finite() && (0.0..=1.0).contains(&h.share),
                        "share {} of {}",
                        h.share,
                        h.endpoint
                    );
                    sum += h.share;
                }
                assert!(sum <= 1.0 + 1e-9, "a path's shares add up to {sum}");
            }
        }
    });
});
