//! Smoke tests for the test API server (`netcheck_testkit::apiserver`), acting as a plain
//! HTTP/1.1 client over TcpStream, plus kubectl when it is installed.

use netcheck::model::Cluster;
use netcheck_testkit::{ApiServer, Fault, Options, Rule};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn pod(ns: &str, name: &str, node: &str, labels: Value, containers: &[&str]) -> Value {
    let containers: Vec<Value> = containers.iter().map(|c| json!({ "name": c })).collect();
    json!({
        "metadata": { "name": name, "namespace": ns, "labels": labels },
        "spec": { "nodeName": node, "containers": containers },
        "status": { "phase": "Running", "podIP": "10.244.0.9" },
    })
}

/// 2 nodes, 5 pods (2 kube-proxy, 3 workloads), a configmap, a current and a previous log.
fn cluster() -> Cluster {
    let mut c: Cluster = serde_json::from_value(json!({
        "apiVersion": "netcheck/v1",
        "kind": "Snapshot",
        "serverVersion": "v1.31.2",
        "nodes": [
            { "metadata": { "name": "n1" }, "spec": { "podCIDR": "10.244.0.0/24" } },
            { "metadata": { "name": "n2" }, "spec": { "podCIDR": "10.244.1.0/24" } },
        ],
        "services": [{ "metadata": { "name": "kubernetes", "namespace": "default" },
                       "spec": { "clusterIP": "10.96.0.1" } }],
        "configMaps": [{ "metadata": { "name": "kube-proxy", "namespace": "kube-system" },
                         "data": { "config.conf": "mode: ipvs" } }],
        "logs": [
            { "namespace": "kube-system", "pod": "kube-proxy-a", "container": "kube-proxy",
              "text": "line one\nline two\nline three\n" },
            { "namespace": "kube-system", "pod": "kube-proxy-a", "container": "kube-proxy",
              "previous": true, "text": "crashed\n" },
        ],
    }))
    .unwrap();
    // Set apart: a snapshot's workload pods are pruned as they are read, and the selector tests
    // need their labels.
    c.pods = serde_json::from_value(json!([
        pod(
            "kube-system",
            "kube-proxy-a",
            "n1",
            json!({ "k8s-app": "kube-proxy" }),
            &["kube-proxy"]
        ),
        pod(
            "kube-system",
            "kube-proxy-b",
            "n2",
            json!({ "k8s-app": "kube-proxy" }),
            &["kube-proxy"]
        ),
        pod(
            "default",
            "web-1",
            "n1",
            json!({ "app": "web" }),
            &["nginx", "sidecar"]
        ),
        pod(
            "default",
            "web-2",
            "n2",
            json!({ "app": "web" }),
            &["nginx"]
        ),
        pod(
            "default",
            "db-0",
            "n2",
            json!({ "app": "db" }),
            &["postgres"]
        ),
    ]))
    .unwrap();
    c
}

fn start(opts: Options) -> ApiServer {
    ApiServer::start(cluster(), opts).unwrap()
}

struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }
    fn header(&self, name: &str) -> Option<&str> {
        let h = self
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name));
        h.map(|(_, v)| v.as_str())
    }
    fn names(&self) -> Vec<String> {
        let items = self.json()["items"].as_array().unwrap().clone();
        items
            .iter()
            .map(|i| i["metadata"]["name"].as_str().unwrap().to_string())
            .collect()
    }
}

/// One client connection; requests on it use keep-alive.
struct Client(BufReader<TcpStream>);

impl Client {
    fn connect(server: &ApiServer) -> Client {
        let stream = TcpStream::connect(server.url().trim_start_matches("http://")).unwrap();
        // A hung server should fail the test, not hang it.
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        Client(BufReader::new(stream))
    }

    fn send(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> std::io::Result<Resp> {
        let mut req = format!(
            "{method} {target} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (k, v) in headers {
            req += &format!("{k}: {v}\r\n");
        }
        req += "\r\n";
        req += body;
        self.0.get_mut().write_all(req.as_bytes())?;
        self.read_response()
    }

    fn read_response(&mut self) -> std::io::Result<Resp> {
        let eof = || std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "connection closed");
        let mut line = String::new();
        if self.0.read_line(&mut line)? == 0 {
            return Err(eof());
        }
        let status = line.split(' ').nth(1).ok_or_else(eof)?.parse().unwrap();
        let mut headers = Vec::new();
        loop {
            line.clear();
            self.0.read_line(&mut line)?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let (k, v) = l.split_once(':').unwrap();
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
        let mut resp = Resp {
            status,
            headers,
            body: Vec::new(),
        };
        let len: usize = resp
            .header("content-length")
            .expect("content-length")
            .parse()
            .unwrap();
        resp.body = vec![0; len];
        self.0.read_exact(&mut resp.body)?;
        Ok(resp)
    }

    fn get(&mut self, target: &str) -> Resp {
        self.send("GET", target, &[], "").unwrap()
    }
}

fn get(server: &ApiServer, target: &str) -> Resp {
    Client::connect(server).get(target)
}

/// Asserts the Kubernetes Status shape and returns it.
fn assert_status(resp: &Resp, code: u16, reason: &str) -> Value {
    assert_eq!(resp.status, code, "{}", String::from_utf8_lossy(&resp.body));
    assert_eq!(resp.header("content-type"), Some("application/json"));
    let s = resp.json();
    assert_eq!(
        (&s["kind"], &s["apiVersion"], &s["status"]),
        (&json!("Status"), &json!("v1"), &json!("Failure"))
    );
    assert_eq!(s["reason"], reason);
    assert_eq!(s["code"], code);
    assert!(s["metadata"].is_object() && s["message"].is_string());
    s
}

#[test]
fn pagination_walks_every_pod_exactly_once() {
    let server = start(Options::default());
    let mut client = Client::connect(&server);
    let (mut pages, mut names, mut target) =
        (Vec::new(), Vec::new(), "/api/v1/pods?limit=2".to_string());
    loop {
        let page = client.get(&target).json();
        assert_eq!(
            (&page["kind"], &page["apiVersion"]),
            (&json!("PodList"), &json!("v1"))
        );
        // The store's version, newer than the objects' own (as on a real server).
        let store = netcheck_testkit::apiserver::STORE_VERSION.to_string();
        assert_eq!(page["metadata"]["resourceVersion"], json!(store));
        for item in page["items"].as_array().unwrap() {
            let own = item["metadata"]["resourceVersion"].as_str().unwrap();
            assert!(own.parse::<u64>().unwrap() < store.parse::<u64>().unwrap());
        }
        for item in page["items"].as_array().unwrap() {
            assert_eq!(
                (&item["kind"], &item["apiVersion"]),
                (&json!("Pod"), &json!("v1"))
            );
            names.push(item["metadata"]["name"].as_str().unwrap().to_string());
        }
        let next = page["metadata"]["continue"].as_str().map(str::to_string);
        pages.push(page);
        match next {
            Some(token) => target = format!("/api/v1/pods?limit=2&continue={token}"),
            None => break,
        }
    }
    assert_eq!(pages.len(), 3);
    assert_eq!(pages[0]["metadata"]["remainingItemCount"], 3);
    assert!(pages[2]["metadata"].get("remainingItemCount").is_none());
    assert_eq!(names.len(), 5);
    assert_eq!(
        names.iter().collect::<BTreeSet<_>>().len(),
        5,
        "duplicates in {names:?}"
    );

    // Without a limit everything comes at once; a namespaced list pages within its namespace.
    assert_eq!(get(&server, "/api/v1/pods").names().len(), 5);
    let first = get(&server, "/api/v1/namespaces/default/pods?limit=2").json();
    let token = first["metadata"]["continue"].as_str().unwrap();
    let rest = get(
        &server,
        &format!("/api/v1/namespaces/default/pods?limit=2&continue={token}"),
    );
    assert_eq!(rest.names(), ["db-0"]);

    let garbled = get(&server, "/api/v1/pods?limit=2&continue=not-a-token");
    assert_status(&garbled, 400, "BadRequest");
}

#[test]
fn max_page_caps_the_limit() {
    let server = start(Options {
        max_page: Some(2),
        ..Default::default()
    });
    let page = get(&server, "/api/v1/pods?limit=500").json();
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert!(page["metadata"]["continue"].is_string());
    assert_eq!(
        get(&server, "/api/v1/pods").names().len(),
        2,
        "the cap applies without a limit too"
    );
}

#[test]
fn label_and_field_selectors_filter_lists() {
    let server = start(Options::default());
    let names = |q: &str| get(&server, &format!("/api/v1/pods?{q}")).names();
    assert_eq!(names("labelSelector=app%3Dweb"), ["web-1", "web-2"]);
    assert_eq!(
        names("labelSelector=app!%3Dweb"),
        ["kube-proxy-a", "kube-proxy-b", "db-0"]
    );
    assert_eq!(
        names("labelSelector=k8s-app"),
        ["kube-proxy-a", "kube-proxy-b"]
    );
    assert!(names("labelSelector=app%3Dweb,k8s-app").is_empty());
    assert_eq!(
        names("fieldSelector=spec.nodeName%3Dn2"),
        ["kube-proxy-b", "web-2", "db-0"]
    );
    assert_eq!(
        names("fieldSelector=metadata.namespace%3Dkube-system,spec.nodeName%3Dn1"),
        ["kube-proxy-a"]
    );
    assert_eq!(names("fieldSelector=metadata.name%3Ddb-0"), ["db-0"]);

    // Paging through a selection: no remaining count (the server cannot know it), still complete.
    let first = get(&server, "/api/v1/pods?labelSelector=app%3Dweb&limit=1").json();
    assert!(first["metadata"].get("remainingItemCount").is_none());
    let token = first["metadata"]["continue"].as_str().unwrap();
    let second = get(
        &server,
        &format!("/api/v1/pods?labelSelector=app%3Dweb&limit=1&continue={token}"),
    );
    assert_eq!(second.names(), ["web-2"]);
    assert!(second.json()["metadata"].get("continue").is_none());

    let unsupported = get(&server, "/api/v1/nodes?fieldSelector=spec.nodeName%3Dn1");
    assert_status(&unsupported, 400, "BadRequest");
}

#[test]
fn single_objects_and_not_found() {
    let server = start(Options::default());
    let node = get(&server, "/api/v1/nodes/n1").json();
    assert_eq!(
        (&node["kind"], &node["spec"]["podCIDR"]),
        (&json!("Node"), &json!("10.244.0.0/24"))
    );
    let cm = get(
        &server,
        "/api/v1/namespaces/kube-system/configmaps/kube-proxy",
    )
    .json();
    assert_eq!(cm["data"]["config.conf"], "mode: ipvs");
    let pod = get(&server, "/api/v1/namespaces/default/pods/web-2").json();
    assert_eq!(pod["spec"]["nodeName"], "n2");

    let missing = assert_status(
        &get(&server, "/api/v1/namespaces/default/pods/nope"),
        404,
        "NotFound",
    );
    assert_eq!(missing["message"], r#"pods "nope" not found"#);
    assert_eq!(
        missing["details"],
        json!({ "name": "nope", "kind": "pods" })
    );
    // Right name, wrong namespace; unknown paths; a CRD that is not installed.
    assert_status(
        &get(&server, "/api/v1/namespaces/default/pods/kube-proxy-a"),
        404,
        "NotFound",
    );
    assert_status(&get(&server, "/healthz/nonsense"), 404, "NotFound");
    assert_status(
        &get(&server, "/apis/crd.projectcalico.org/v1/ippools"),
        404,
        "NotFound",
    );
}

#[test]
fn deny_rules_answer_403_like_rbac() {
    let deny = vec![
        Rule::path("/api/v1/namespaces/kube-system/pods/kube-proxy-a/log"),
        Rule::path("/api/v1/nodes"),
    ];
    let server = start(Options {
        deny,
        ..Default::default()
    });
    let log = assert_status(
        &get(
            &server,
            "/api/v1/namespaces/kube-system/pods/kube-proxy-a/log",
        ),
        403,
        "Forbidden",
    );
    assert_eq!(
        log["message"],
        r#"pods "kube-proxy-a" is forbidden: User "system:serviceaccount:netcheck:netcheck" cannot get resource "pods/log" in API group "" in the namespace "kube-system""#
    );
    let nodes = assert_status(&get(&server, "/api/v1/nodes?limit=500"), 403, "Forbidden");
    assert!(nodes["message"]
        .as_str()
        .unwrap()
        .ends_with(r#"cannot list resource "nodes" in API group "" at the cluster scope"#));
    assert_eq!(get(&server, "/api/v1/pods").status, 200);
}

#[test]
fn logs_honour_container_limit_tail_and_previous() {
    let server = start(Options::default());
    let log = |q: &str| {
        get(
            &server,
            &format!("/api/v1/namespaces/kube-system/pods/kube-proxy-a/log{q}"),
        )
    };
    let full = log("");
    assert_eq!(full.header("content-type"), Some("text/plain"));
    assert_eq!(
        full.text(),
        "line one\nline two\nline three\n",
        "defaults to the first container"
    );
    assert_eq!(log("?container=kube-proxy&limitBytes=8").text(), "line one");
    assert_eq!(
        log("?limitBytes=100000").text(),
        "line one\nline two\nline three\n"
    );
    assert_eq!(log("?tailLines=1").text(), "line three\n");
    assert_eq!(log("?previous=true").text(), "crashed\n");

    let prev = get(
        &server,
        "/api/v1/namespaces/default/pods/web-1/log?container=nginx&previous=true",
    );
    let prev = assert_status(&prev, 400, "BadRequest");
    assert_eq!(
        prev["message"],
        r#"previous terminated container "nginx" in pod "web-1" not found"#
    );
    let current = get(&server, "/api/v1/namespaces/default/pods/web-1/log");
    assert_eq!((current.status, current.body.len()), (200, 0));
    assert_status(
        &get(&server, "/api/v1/namespaces/default/pods/ghost/log"),
        404,
        "NotFound",
    );
}

#[test]
fn gone_on_continue_only_when_a_token_is_sent() {
    let faults = vec![(Rule::path("/api/v1/pods"), Fault::GoneOnContinue)];
    let server = start(Options {
        faults,
        ..Default::default()
    });
    let first = get(&server, "/api/v1/pods?limit=2");
    assert_eq!(first.status, 200);
    let token = first.json()["metadata"]["continue"]
        .as_str()
        .unwrap()
        .to_string();
    let gone = get(&server, &format!("/api/v1/pods?limit=2&continue={token}"));
    assert_status(&gone, 410, "Expired");
    assert_eq!(
        get(&server, "/api/v1/pods?limit=2").status,
        200,
        "a fresh list still works"
    );
}

#[test]
fn faults_with_times_apply_to_the_first_matches_only() {
    let faults = vec![
        (
            Rule::path("/api/v1/nodes").first(1),
            Fault::TooManyRequests {
                retry_after_secs: 3,
            },
        ),
        (
            Rule::path("/version").method("GET").first(2),
            Fault::Status(503),
        ),
    ];
    let server = start(Options {
        faults,
        ..Default::default()
    });
    let throttled = get(&server, "/api/v1/nodes");
    let status = assert_status(&throttled, 429, "TooManyRequests");
    assert_eq!(throttled.header("retry-after"), Some("3"));
    assert_eq!(status["details"]["retryAfterSeconds"], 3);
    assert_eq!(get(&server, "/api/v1/nodes").names(), ["n1", "n2"]);

    assert_status(&get(&server, "/version"), 503, "ServiceUnavailable");
    assert_status(&get(&server, "/version"), 503, "ServiceUnavailable");
    let version = get(&server, "/version").json();
    assert_eq!(
        (&version["minor"], &version["gitVersion"]),
        (&json!("31"), &json!("v1.31.2"))
    );
}

#[test]
fn transport_faults_reset_truncate_and_delay() {
    let faults = vec![
        (Rule::path("/api/v1/services"), Fault::Reset),
        (Rule::path("/api/v1/configmaps"), Fault::TruncatedJson),
        (
            Rule::path("/apis/apps/v1/daemonsets"),
            Fault::Delay(Duration::from_millis(200)),
        ),
    ];
    let server = start(Options {
        faults,
        ..Default::default()
    });
    assert!(Client::connect(&server)
        .send("GET", "/api/v1/services", &[], "")
        .is_err());

    // Read the truncated response raw: the announced length exceeds what arrives before EOF.
    let mut stream = TcpStream::connect(server.url().trim_start_matches("http://")).unwrap();
    stream
        .write_all(b"GET /api/v1/configmaps HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let announced: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(body.len(), announced / 2);
    assert!(serde_json::from_str::<Value>(body).is_err());

    let started = Instant::now();
    assert_eq!(get(&server, "/apis/apps/v1/daemonsets").status, 200);
    assert!(started.elapsed() >= Duration::from_millis(200));

    let seen: Vec<(String, u16)> = server
        .requests()
        .into_iter()
        .map(|r| (r.path, r.status))
        .collect();
    assert_eq!(
        seen[0],
        ("/api/v1/services".to_string(), 0),
        "a reset is recorded with status 0"
    );
}

#[test]
fn log_faults_huge_and_invalid_utf8() {
    let faults = vec![
        (
            Rule::path("/api/v1/namespaces/kube-system/pods/kube-proxy-b/log"),
            Fault::HugeLog { bytes: 1 << 20 },
        ),
        (
            Rule::path("/api/v1/namespaces/kube-system/pods/kube-proxy-a/log"),
            Fault::InvalidUtf8Log,
        ),
    ];
    let server = start(Options {
        faults,
        ..Default::default()
    });
    let huge = get(
        &server,
        "/api/v1/namespaces/kube-system/pods/kube-proxy-b/log?limitBytes=100",
    );
    assert_eq!(huge.body.len(), 1 << 20, "limitBytes is ignored");
    assert!(
        huge.body.starts_with(b"I0101 ")
            && huge
                .body
                .split(|b| *b == b'\n')
                .nth(1)
                .unwrap()
                .starts_with(b"I0101 ")
    );

    let bad = get(
        &server,
        "/api/v1/namespaces/kube-system/pods/kube-proxy-a/log",
    )
    .body;
    assert!(std::str::from_utf8(&bad).is_err());
    assert!(String::from_utf8_lossy(&bad).contains("\"Using ipvs Proxier\"\n"));
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let server = start(Options::default());
    let mut client = Client::connect(&server);
    let first = client.get("/api/v1/nodes");
    assert!(first.header("connection").is_none());
    assert_eq!(first.names(), ["n1", "n2"]);
    assert_eq!(client.get("/version").json()["major"], "1");
    // Errors do not end the connection either.
    assert_eq!(client.get("/api/v1/nodes/none").status, 404);
    assert_eq!(
        client.get("/api/v1/namespaces/default/services").names(),
        ["kubernetes"]
    );
}

#[test]
fn recorder_lists_every_request_in_order() {
    let deny = vec![Rule::path("/api/v1/namespaces/kube-system/configmaps")];
    let server = start(Options {
        deny,
        ..Default::default()
    });
    get(&server, "/version");
    get(&server, "/api/v1/pods?limit=1&labelSelector=app%3Dweb");
    get(
        &server,
        "/api/v1/namespaces/kube-system/configmaps/kube-proxy",
    );
    get(&server, "/nope");
    let mut client = Client::connect(&server);
    client.send("DELETE", "/api/v1/nodes/n1", &[], "").unwrap();
    let seen: Vec<_> = server
        .requests()
        .into_iter()
        .map(|r| (r.method, r.path, r.query, r.status))
        .collect();
    let want = [
        ("GET", "/version", "", 200),
        (
            "GET",
            "/api/v1/pods",
            "limit=1&labelSelector=app%3Dweb",
            200,
        ),
        (
            "GET",
            "/api/v1/namespaces/kube-system/configmaps/kube-proxy",
            "",
            403,
        ),
        ("GET", "/nope", "", 404),
        ("DELETE", "/api/v1/nodes/n1", "", 405),
    ];
    let want: Vec<_> = want
        .iter()
        .map(|(m, p, q, s)| (m.to_string(), p.to_string(), q.to_string(), *s))
        .collect();
    assert_eq!(seen, want);
    assert!(server.requests().iter().all(|r| r.bytes > 0));
}

#[test]
fn bearer_token_is_required_when_configured() {
    let server = start(Options {
        token: Some("s3cret".into()),
        ..Default::default()
    });
    assert_status(&get(&server, "/api/v1/nodes"), 401, "Unauthorized");
    let mut client = Client::connect(&server);
    let ok = client
        .send(
            "GET",
            "/api/v1/nodes",
            &[("Authorization", "Bearer s3cret")],
            "",
        )
        .unwrap();
    assert_eq!(ok.status, 200);
}

#[test]
fn discovery_follows_what_the_cluster_carries() {
    let mut c = cluster();
    c.service_cidrs = serde_json::from_value(json!([
        { "metadata": { "name": "kubernetes" }, "spec": { "cidrs": ["10.96.0.0/12"] },
          "apiVersion": "networking.k8s.io/v1beta1" },
    ]))
    .unwrap();
    c.ip_pools = serde_json::from_value(json!([{ "metadata": { "name": "default-ipv4-ippool" },
                                                 "spec": { "cidr": "10.244.0.0/16" } }]))
    .unwrap();
    let server = ApiServer::start(c, Options::default()).unwrap();

    assert_eq!(get(&server, "/api").json()["versions"], json!(["v1"]));
    let groups = get(&server, "/apis").json();
    let versions: Vec<(String, Vec<String>)> = groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let vs = g["versions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["groupVersion"].as_str().unwrap().to_string());
            (g["name"].as_str().unwrap().to_string(), vs.collect())
        })
        .collect();
    let own = |g: &str, vs: &[&str]| {
        (
            g.to_string(),
            vs.iter().map(|v| v.to_string()).collect::<Vec<_>>(),
        )
    };
    assert_eq!(
        versions,
        [
            own("discovery.k8s.io", &["discovery.k8s.io/v1"]),
            own("apps", &["apps/v1"]),
            // v1 for NetworkPolicies (always served), preferred over the v1beta1 ServiceCIDRs.
            own(
                "networking.k8s.io",
                &["networking.k8s.io/v1", "networking.k8s.io/v1beta1"],
            ),
            own("crd.projectcalico.org", &["crd.projectcalico.org/v1"]),
        ]
    );
    let core = get(&server, "/api/v1").json();
    let core: Vec<&str> = core["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert!(core.contains(&"nodes") && core.contains(&"pods/log"));

    assert_status(
        &get(&server, "/apis/networking.k8s.io/v1/servicecidrs"),
        404,
        "NotFound",
    );
    let beta = get(&server, "/apis/networking.k8s.io/v1beta1/servicecidrs").json();
    assert_eq!(beta["items"][0]["apiVersion"], "networking.k8s.io/v1beta1");
    assert_eq!(beta["items"][0]["kind"], "ServiceCIDR");
    let pools = get(&server, "/apis/crd.projectcalico.org/v1/ippools").json();
    assert_eq!(
        (&pools["kind"], &pools["items"][0]["spec"]["cidr"]),
        (&json!("IPPoolList"), &json!("10.244.0.0/16"))
    );
}

#[test]
fn dry_run_service_probe() {
    let svc = r#"{"apiVersion":"v1","kind":"Service","metadata":{"name":"netcheck-probe"},"spec":{"clusterIP":"10.255.255.254"}}"#;
    let target = "/api/v1/namespaces/default/services?dryRun=All";

    let mut c = cluster();
    let message = "Service \"netcheck-probe\" is invalid: spec.clusterIPs: Invalid value: []string{\"10.255.255.254\"}: \
                   failed to allocate IP 10.255.255.254: the provided IP (10.255.255.254) is not in the valid range. \
                   The range of valid IPs is 10.96.0.0/12";
    c.probe = Some(
        serde_json::from_value(
            json!({ "requestedIp": "10.255.255.254", "code": 422, "message": message }),
        )
        .unwrap(),
    );
    let server = ApiServer::start(c, Options::default()).unwrap();
    let mut client = Client::connect(&server);
    let invalid = client
        .send("POST", target, &[("Content-Type", "application/json")], svc)
        .unwrap();
    let status = assert_status(&invalid, 422, "Invalid");
    assert_eq!(status["message"], message);
    assert_eq!(status["details"]["name"], "netcheck-probe");
    let cause = &status["details"]["causes"][0];
    assert_eq!(
        (&cause["reason"], &cause["field"]),
        (&json!("FieldValueInvalid"), &json!("spec.clusterIPs"))
    );
    // Not a dry run, or another method: refused.
    let real = client
        .send("POST", "/api/v1/namespaces/default/services", &[], svc)
        .unwrap();
    assert_status(&real, 405, "MethodNotAllowed");
    assert_status(
        &client.send("PUT", "/api/v1/nodes/n1", &[], "{}").unwrap(),
        405,
        "MethodNotAllowed",
    );

    let server = start(Options::default());
    let created = Client::connect(&server)
        .send("POST", target, &[], svc)
        .unwrap();
    assert_eq!(created.status, 201);
    assert_eq!(created.json()["metadata"]["name"], "netcheck-probe");
}

#[test]
fn stop_closes_the_listener_and_idle_connections() {
    let server = start(Options::default());
    let addr = server.url().trim_start_matches("http://").to_string();
    let mut idle = Client::connect(&server);
    assert_eq!(idle.get("/version").status, 200);
    server.stop();
    let mut buf = [0u8; 1];
    assert_eq!(
        idle.0.read(&mut buf).unwrap_or(0),
        0,
        "the idle connection is closed"
    );
    assert!(TcpStream::connect(addr).is_err());
}

#[test]
fn kubectl_get_nodes_against_the_server() {
    let on_path = std::process::Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output();
    assert!(
        on_path.is_ok_and(|o| o.status.success()),
        "this test needs kubectl on PATH (installed on every machine of this project)"
    );
    // No `token` option: client-go only sends credentials to https servers, so kubectl
    // would get 401 from a plain-http server that requires one.
    let server = start(Options::default());
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("apiserver-kubectl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let kubeconfig = dir.join("kubeconfig");
    server.write_kubeconfig(&kubeconfig).unwrap();
    let out = std::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .arg("--cache-dir")
        .arg(dir.join("cache"))
        .args(["--request-timeout", "10s", "get", "nodes", "-o", "name"])
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "kubectl failed: {stderr}\nrequests: {:#?}",
        server.requests()
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "node/n1\nnode/n2\n");
    assert!(server
        .requests()
        .iter()
        .any(|r| r.path == "/api/v1/nodes" && r.status == 200));
}

/// Run with `cargo test --release --test apiserver_smoke -- --ignored` to check scale.
#[test]
#[ignore]
fn serves_150k_pods_paginated() {
    let mut c = cluster();
    let template = c.pods[2].clone();
    c.pods = (0..150_000)
        .map(|i| {
            let mut p = template.clone();
            p.metadata.name = format!("web-{i}").into();
            p.spec.node_name = Some(format!("n{}", i % 2 + 1).into());
            p
        })
        .collect();
    let started = Instant::now();
    let server = ApiServer::start(c, Options::default()).unwrap();
    let ready = started.elapsed();
    let mut client = Client::connect(&server);
    let (mut count, mut target) = (0, "/api/v1/pods?limit=500".to_string());
    loop {
        let page = client.get(&target).json();
        count += page["items"].as_array().unwrap().len();
        match page["metadata"]["continue"].as_str() {
            Some(token) => target = format!("/api/v1/pods?limit=500&continue={token}"),
            None => break,
        }
    }
    assert_eq!(count, 150_000);
    eprintln!(
        "start {ready:?}, 300 pages in {:?}",
        started.elapsed() - ready
    );
}
