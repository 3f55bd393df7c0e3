//! From outside in (#19): `trace --host --path` through the Ingress or route to the pods, and
//! the Services view naming what reaches a Service. Expected values are read off the scenario's
//! definition in tests/scenarios/build.py (routes-side-by-side), not from netcheck's output.

mod common;
use common::{netcheck, report, root};

fn side_by_side() -> String {
    root()
        .join("tests/scenarios/routes-side-by-side/cluster.json")
        .display()
        .to_string()
}

fn trace(args: &[&str]) -> common::Run {
    let snap = side_by_side();
    let mut a = vec!["trace", "--snapshot", snap.as_str()];
    a.extend_from_slice(args);
    netcheck(&a)
}

fn hops(r: &netcheck::report::Report) -> Vec<String> {
    let t = r.trace.as_ref().expect("trace answer");
    let mut v: Vec<String> = t
        .paths
        .iter()
        .flat_map(|p| p.hops.iter().map(|h| h.endpoint.clone()))
        .collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn host_and_path_lead_through_the_route_to_the_pods() {
    let r = trace(&[
        "--host",
        "shop.example.com",
        "--path",
        "/api/v1",
        "-o",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rep = report(&r);
    let t = rep.trace.as_ref().unwrap();
    // storefront's Ingress and HTTPRoute both send /api to api:8080; api's one pod is .31.
    assert_eq!(t.service, "shop/api");
    let e = t.entry.as_ref().expect("entry");
    let mut routes: Vec<&str> = e.matches.iter().map(|m| m.route.as_str()).collect();
    routes.sort();
    assert_eq!(
        routes,
        ["httproute shop/storefront", "ingress shop/storefront"]
    );
    assert_eq!(e.matches[0].backend.target, "service shop/api");
    assert_eq!(e.matches[0].backend.port.as_deref(), Some("8080"));
    assert_eq!(hops(&rep), ["10.244.2.31:8080"]);
}

#[test]
fn a_route_its_gateway_refused_is_listed_but_not_followed() {
    // marketing/campaign matches /spring longest, but shop/eg did not accept it: traffic takes
    // storefront's "/" to web (pods .1.30 and .2.30, port 8080).
    let r = trace(&[
        "--host",
        "shop.example.com",
        "--path",
        "/spring",
        "-o",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rep = report(&r);
    let t = rep.trace.as_ref().unwrap();
    assert_eq!(t.service, "shop/web");
    let e = t.entry.as_ref().unwrap();
    assert_eq!(e.matches.len(), 3, "{:?}", e.matches);
    let last = e.matches.last().unwrap();
    assert_eq!(last.route, "httproute marketing/campaign");
    assert!(last.problems.iter().any(|p| p.id == "route-not-accepted"));
    assert_eq!(hops(&rep), ["10.244.1.30:8080", "10.244.2.30:8080"]);
}

#[test]
fn text_trace_names_the_route_and_its_problems() {
    let r = trace(&["--host", "shop.example.com", "--path", "/api"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("From shop.example.com/api"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("service shop/api"), "{}", r.stdout);
    // The Ingress's TLS Secret is named as not verified on its hop.
    let r = trace(&["--host", "shop.example.com", "--path", "/api", "-o", "json"]);
    let rep = report(&r);
    let e = rep.trace.unwrap().entry.unwrap();
    let ing = e
        .matches
        .iter()
        .find(|m| m.route == "ingress shop/storefront")
        .unwrap();
    assert!(ing
        .problems
        .iter()
        .any(|p| p.id == "ingress-tls-unverified" && p.detail.contains("shop/shop-tls")));
}

#[test]
fn a_backend_that_does_not_exist_is_a_clear_error() {
    let r = trace(&["--host", "promo.example.com"]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("ingress shop/promo")
            && r.stderr.contains("service shop/promo not found"),
        "{}",
        r.stderr
    );
}

#[test]
fn an_unrouted_host_and_a_snapshot_without_routes_are_errors() {
    let r = trace(&["--host", "nothing.example.com", "--path", "/"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("no Ingress or route matches host nothing.example.com path /"),
        "{}",
        r.stderr
    );
    let lab = root().join("examples/cka-lab.json").display().to_string();
    let r = netcheck(&["trace", "--snapshot", &lab, "--host", "shop.example.com"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("predates"), "{}", r.stderr);
    // A Service and --host together are refused by the argument parser.
    let r = trace(&["shop/web", "--host", "shop.example.com"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[test]
fn the_services_detail_names_what_reaches_it() {
    let snap = side_by_side();
    let r = netcheck(&[
        "services",
        "shop/api",
        "--snapshot",
        &snap,
        "--fail-on",
        "never",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let line = r
        .stdout
        .lines()
        .find(|l| l.starts_with("Reached by:"))
        .unwrap_or_else(|| panic!("{}", r.stdout));
    assert!(
        line.contains("ingress shop/storefront") && line.contains("httproute shop/storefront"),
        "{line}"
    );
    // One Service: only the routes that reach it are listed.
    let r = netcheck(&["services", "shop/api", "--snapshot", &snap, "-o", "json"]);
    let rep = report(&r);
    let a = rep.services.unwrap().routes.unwrap();
    let mut names: Vec<String> = a
        .routes
        .iter()
        .map(|x| format!("{} {}", x.kind, x.name))
        .collect();
    names.sort();
    assert_eq!(names, ["HTTPRoute storefront", "Ingress storefront"]);
}

/// `--explain` gives each route, Ingress and Gateway with a problem the commands that show it,
/// with its own names: the planted problems of build.py's routes-side-by-side.
#[test]
fn explain_names_each_broken_route_and_what_to_run() {
    let snap = side_by_side();
    let r = netcheck(&["report", "--explain", "-o", "json", "--snapshot", &snap]);
    let r = report(&r);
    let steps = |topic: &str| -> Vec<String> {
        r.explain
            .iter()
            .find(|e| e.topic == topic)
            .unwrap_or_else(|| panic!("no explanation for {topic}"))
            .steps
            .iter()
            .map(|s| s.command.clone())
            .collect()
    };
    // promo's backend Service does not exist: the Ingress, then the Service's ports.
    assert_eq!(
        steps("ingress shop/promo"),
        [
            "kubectl -n shop describe ingress promo",
            "kubectl -n shop get service promo -o jsonpath='{.spec.ports}'"
        ]
    );
    // internal names a class that does not exist: the classes are listed.
    assert!(steps("ingress shop/internal")[1].starts_with("kubectl get ingressclass"));
    // billing reaches payments/billing without a grant: its Gateway and the grants.
    let billing = steps("httproute shop/billing");
    assert!(
        billing.contains(&"kubectl -n shop describe gateway eg".to_string()),
        "{billing:?}"
    );
    assert!(
        billing.contains(&"kubectl get referencegrants -A -o yaml".to_string()),
        "{billing:?}"
    );
    // checkout's parent Gateway is missing: the Gateway it names is described.
    assert!(steps("httproute shop/checkout")
        .contains(&"kubectl -n shop describe gateway shop-gw".to_string()));
    // mesh-gw is not Programmed: the Gateway and its class's controller.
    assert_eq!(steps("gateway istio-ingress/mesh-gw").len(), 2);
    // A route without problems gets none.
    assert!(!r
        .explain
        .iter()
        .any(|e| e.topic == "httproute shop/storefront"));
}
