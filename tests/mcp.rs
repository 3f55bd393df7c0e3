//! `netcheck mcp` (#16): a protocol transcript written by hand (JSON-RPC framing, version
//! negotiation, notifications, errors), and a session driven by the Model Context Protocol's
//! own Python SDK (tests/fixtures/mcp/client.py; `pip install mcp`, which .ci/run does).

mod common;

use common::*;
use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Stdio};

const CKA: &str = "examples/cka-lab.json";

/// Sends the lines, closes stdin, returns the replies.
fn transcript(lines: &[String]) -> Vec<Value> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_netcheck"))
        .arg("mcp")
        .env_remove("KUBECONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for l in lines {
        writeln!(stdin, "{l}").unwrap();
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn req(id: u32, method: &str, params: Value) -> String {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string()
}

#[test]
fn protocol_transcript() {
    let replies = transcript(&[
        req(
            1,
            "initialize",
            json!({"protocolVersion": "2025-03-26", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}),
        ),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string(),
        req(2, "tools/list", json!({})),
        req(
            3,
            "tools/call",
            json!({"name": "cidrs", "arguments": {"snapshot": CKA}}),
        ),
        req(
            4,
            "tools/call",
            json!({"name": "cidrs", "arguments": {"snapshot": CKA, "probe_service_cidr": "yes"}}),
        ),
        req(
            5,
            "tools/call",
            json!({"name": "trace", "arguments": {"snapshot": CKA}}),
        ),
        req(6, "no/such", json!({})),
        "{not json".to_string(),
        req(7, "ping", json!({})),
        req(
            8,
            "tools/call",
            json!({"name": "can_reach", "arguments": {"snapshot": CKA, "from": "default/nginx1", "to": "default/nginx2", "port": "80"}}),
        ),
        req(
            9,
            "tools/call",
            json!({"name": "can_reach", "arguments": {"snapshot": CKA, "from": "nginx1", "to": "default/nginx2"}}),
        ),
    ]);
    // The notification gets no reply: 8 replies for 8 requests and one unparsable line.
    assert_eq!(replies.len(), 10, "{replies:#?}");
    let by_id = |id: u32| {
        replies
            .iter()
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("no reply {id}"))
    };
    // A version the server speaks is agreed to.
    assert_eq!(by_id(1)["result"]["protocolVersion"], "2025-03-26");
    assert_eq!(by_id(1)["result"]["serverInfo"]["name"], "netcheck");
    let tools = by_id(2)["result"]["tools"].as_array().unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "report",
            "cidrs",
            "proxy_mode",
            "daemonsets",
            "services",
            "capacity",
            "policies",
            "can_reach",
            "trace",
            "diff"
        ]
    );
    assert!(tools
        .iter()
        .all(|t| t["annotations"]["readOnlyHint"] == true));
    // Nothing that writes or execs is offered.
    let all = serde_json::to_string(tools).unwrap();
    for absent in ["probe", "exec", "on_node"] {
        assert!(!all.contains(absent), "{absent} offered");
    }
    // The CKA lab's ranges (seed 002), as netcheck/v1 JSON.
    let doc = &by_id(3)["result"]["structuredContent"];
    assert_eq!(by_id(3)["result"]["isError"], false);
    assert_eq!(doc["apiVersion"], "netcheck/v1");
    assert_eq!(doc["cidrs"]["podCidr"]["cidrs"], json!(["10.244.0.0/16"]));
    assert_eq!(
        doc["cidrs"]["serviceCidr"]["cidrs"],
        json!(["10.96.0.0/12"])
    );
    // Bad arguments are the tool's error, with the reason.
    assert_eq!(by_id(4)["result"]["isError"], true);
    assert!(by_id(4)["result"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .contains("probe_service_cidr"));
    assert_eq!(by_id(5)["result"]["isError"], true, "trace needs a service");
    assert_eq!(by_id(6)["error"]["code"], -32601);
    let parse = replies.iter().find(|r| r["id"].is_null()).unwrap();
    assert_eq!(parse["error"]["code"], -32700);
    assert_eq!(by_id(7)["result"], json!({}));
    // The lab's two nginx pods: one pair, judged (the lab's snapshot predates NetworkPolicy
    // reads, so the verdict is unknown rather than allowed).
    let reach = &by_id(8)["result"]["structuredContent"]["reach"];
    assert_eq!(by_id(8)["result"]["isError"], false);
    assert_eq!(reach["pairsTotal"], 1, "{reach}");
    assert_eq!(reach["from"], "pod default/nginx1");
    // FROM without a namespace is refused, naming it.
    assert_eq!(by_id(9)["result"]["isError"], true);
    assert!(by_id(9)["result"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .contains("nginx1"));
}

#[test]
fn python_sdk_session() {
    let probe = Command::new("python3").args(["-c", "import mcp"]).output();
    let ok = probe.as_ref().is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "this test needs python3 with the MCP SDK (pip install mcp; .ci/run installs it): {:?}",
        probe.map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
    );
    let other = root().join("tests/scenarios/minikube-flannel/cluster.json");
    let out = Command::new("python3")
        .arg(root().join("tests/fixtures/mcp/client.py"))
        .arg(env!("CARGO_BIN_EXE_netcheck"))
        .arg(root().join(CKA))
        .arg(&other)
        .env_remove("KUBECONFIG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(seen["server"], "netcheck");
    assert_eq!(seen["tools"].as_array().unwrap().len(), 10);
    assert_eq!(seen["readOnly"], true);
    assert_eq!(seen["cidrs"]["isError"], false);
    assert_eq!(
        seen["cidrs"]["doc"]["cidrs"]["nodeNetwork"]["cidrs"],
        json!(["10.19.9.0/24"])
    );
    // The lab's DNS Service, by name and namespace.
    let svc = &seen["services"]["doc"]["services"]["services"];
    assert_eq!(svc.as_array().unwrap().len(), 1, "{svc}");
    assert_eq!(svc[0]["name"], "kube-dns");
    // Weave (the lab) to flannel (minikube): a changed answer.
    let changes = seen["diff"]["doc"]["changes"].as_array().unwrap();
    assert!(
        changes
            .iter()
            .any(|c| c["what"] == "cni" && c["before"] == "weave" && c["after"] == "flannel"),
        "{changes:?}"
    );
    assert_eq!(seen["bad"]["isError"], true);
    assert!(seen["bad"]["text"].as_str().unwrap().contains("no-such-id"));
}
