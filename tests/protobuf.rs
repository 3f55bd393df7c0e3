//! Pod, Node, Service and EndpointSlice lists in the API server's protobuf encoding: netcheck asks
//! for it first, and what it collects from protobuf is exactly what it collects from JSON, for
//! every scenario and for a generated cluster served at realistic object sizes with every
//! injected fault.

mod common;

use common::*;
use netcheck::collect::proto::CONTENT_TYPE;
use netcheck::model::Cluster;
use netcheck_testkit::generate::{self, Cni, Inject, ProxyMode, Spec};
use netcheck_testkit::{ApiServer, Fault, Options, Recorded, Rule};
use serde_json::Value;

/// `netcheck snapshot` against a server, with where it came from left out; and the requests.
fn snapshot(cluster: Cluster, opts: Options, extra: &[&str]) -> (Value, Vec<Recorded>) {
    let server = ApiServer::start(cluster, opts).unwrap();
    let dir = scratch("pb");
    let (kc, out) = (dir.join("kubeconfig"), dir.join("snap.json"));
    server.write_kubeconfig(&kc).unwrap();
    let mut args = vec![
        "snapshot",
        "-o",
        out.to_str().unwrap(),
        "--kubeconfig",
        kc.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let run = netcheck(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    v.as_object_mut().unwrap().remove("source");
    (v, server.requests())
}

fn list_pages<'a>(reqs: &'a [Recorded], path: &str) -> Vec<&'a Recorded> {
    reqs.iter().filter(|r| r.path == path).collect()
}

fn pod_pages(reqs: &[Recorded]) -> Vec<&Recorded> {
    list_pages(reqs, "/api/v1/pods")
}

fn same_through_both_encodings(name: &str, cluster: Cluster, decorate: bool) {
    let opts = |json_only| Options {
        json_only,
        decorate: decorate.then_some(generate::realistic as fn(&str, &mut Value)),
        ..Options::default()
    };
    let page = ["--page-size", "7"];
    let (pb, pb_reqs) = snapshot(cluster.clone(), opts(false), &page);
    let (json, json_reqs) = snapshot(cluster, opts(true), &page);
    // The two largest lists: each page asked for and served in protobuf, or all in JSON.
    for list in ["/api/v1/pods", "/api/v1/nodes"] {
        let pages = list_pages(&pb_reqs, list);
        assert!(!pages.is_empty(), "{name}: {list}");
        for r in &pages {
            assert!(r.accept.starts_with(CONTENT_TYPE), "{name}: {r:?}");
            assert_eq!(r.content_type, CONTENT_TYPE, "{name}: {r:?}");
        }
        let json_pages = list_pages(&json_reqs, list);
        assert!(json_pages
            .iter()
            .all(|r| r.content_type == "application/json"));
        assert_eq!(pages.len(), json_pages.len(), "{name}: same {list} pages");
    }
    // Only those lists are asked for in protobuf; the rest in JSON only.
    const LISTS: &[&str] = &[
        "/api/v1/pods",
        "/api/v1/nodes",
        "/api/v1/services",
        "/apis/discovery.k8s.io/v1/endpointslices",
    ];
    for r in &pb_reqs {
        let asked = r.accept.contains(CONTENT_TYPE);
        assert_eq!(asked, LISTS.contains(&r.path.as_str()), "{name}: {r:?}");
    }
    for key in pb.as_object().unwrap().keys() {
        assert!(
            pb[key] == json[key],
            "{name}: protobuf and JSON snapshots differ in {key}:\n{}\n---\n{}",
            &pb[key],
            &json[key]
        );
    }
    assert_eq!(pb, json, "{name}");
}

#[test]
fn every_scenario_collects_the_same_from_protobuf_as_from_json() {
    let dirs = scenario_dirs();
    assert!(dirs.len() >= 20, "found {} scenarios", dirs.len());
    for d in dirs {
        let name = d.file_name().unwrap().to_string_lossy().to_string();
        let exp: Value =
            serde_json::from_str(&std::fs::read_to_string(d.join("expected.json")).unwrap())
                .unwrap();
        let cluster = load(&d.join(exp["cluster"].as_str().unwrap_or("cluster.json")));
        // Scenarios of a refused pod list hold none: the other lists are still compared.
        let refused = cluster.errors.iter().any(|e| e.what == "pods");
        assert!(refused || !cluster.pods.is_empty(), "{name} has pods");
        same_through_both_encodings(&name, cluster, false);
    }
}

#[test]
fn realistic_generated_pods_collect_the_same_from_protobuf_as_from_json() {
    for (cni, proxy) in [
        (Cni::Weave, ProxyMode::Iptables),
        (Cni::Cilium, ProxyMode::Replaced),
    ] {
        let s = Spec {
            nodes: 9,
            pods_per_node: 5,
            services: 9,
            cni,
            proxy,
            inject: Inject::ALL.to_vec(),
        };
        same_through_both_encodings(&format!("{cni:?}"), generate::cluster(&s), true);
    }
}

#[test]
fn protobuf_pages_are_smaller_than_json_ones() {
    let s = Spec::sized(20);
    let opts = |json_only| Options {
        json_only,
        decorate: Some(generate::realistic),
        ..Options::default()
    };
    let bytes = |json_only| {
        let (_, reqs) = snapshot(generate::cluster(&s), opts(json_only), &[]);
        ["/api/v1/pods", "/api/v1/nodes"]
            .map(|l| list_pages(&reqs, l).iter().map(|r| r.bytes).sum::<usize>())
    };
    let (pb, json) = (bytes(false), bytes(true));
    for i in 0..2 {
        assert!(
            pb[i] > 0 && pb[i] < json[i],
            "protobuf {pb:?} B, JSON {json:?} B"
        );
    }
}

/// Errors come back as a protobuf Status when protobuf was asked for; the report says the same.
#[test]
fn pod_list_errors_in_protobuf_read_like_json_ones() {
    let c = generate::cluster(&Spec::sized(3));
    let skipped = |json_only, fault: Option<Fault>| {
        let opts = Options {
            json_only,
            deny: fault
                .is_none()
                .then(|| Rule::path("/api/v1/pods"))
                .into_iter()
                .collect(),
            faults: fault
                .map(|f| (Rule::path("/api/v1/pods"), f))
                .into_iter()
                .collect(),
            ..Options::default()
        };
        let (snap, reqs) = snapshot(c.clone(), opts, &[]);
        let pages = pod_pages(&reqs);
        let expected = if json_only {
            "application/json"
        } else {
            CONTENT_TYPE
        };
        assert!(
            pages.iter().all(|r| r.content_type == expected),
            "{pages:?}"
        );
        snap["errors"].clone()
    };
    for fault in [None, Some(Fault::Status(500))] {
        let (pb, json) = (skipped(false, fault.clone()), skipped(true, fault));
        assert_eq!(pb, json);
        let reason = pb[0]["reason"].as_str().unwrap();
        assert!(
            reason.contains("cannot list resource \"pods\"") || reason.contains("injected fault"),
            "{reason}"
        );
    }
}
