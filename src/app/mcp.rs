//! `netcheck mcp`: the Model Context Protocol over stdio (newline-delimited JSON-RPC 2.0), so
//! an agent can ask what a person asks on the command line. Each tool takes the CLI's options
//! as arguments, is parsed by the same clap definitions, and returns the netcheck/v1 JSON. Only
//! reads are offered: no dry-run probe, no exec into pods, no host files.

use crate::cli::{self, Cli};
use clap::Parser;
use serde_json::{json, Value};
use std::io::{BufRead, Write};

/// Protocol revisions this server speaks; the newest is offered when the client's is unknown.
const VERSIONS: &[&str] = &["2025-06-18", "2025-03-26", "2024-11-05"];

struct Tool {
    name: &'static str,
    /// The netcheck command it runs.
    command: &'static str,
    description: &'static str,
    /// Its own arguments besides the common ones: (name, JSON type, description, required).
    own: &'static [(&'static str, &'static str, &'static str, bool)],
}

const SERVICE_ARGS: &[(&str, &str, &str, bool)] = &[
    ("namespace", "string", "Only this namespace", false),
    (
        "service",
        "string",
        "One Service, NAMESPACE/NAME or NAME with namespace",
        false,
    ),
];

const TOOLS: &[Tool] = &[
    Tool { name: "report", command: "report", description: "Everything netcheck answers about the cluster's networking (node network, pod and service ranges with their sources, CNI, kube-proxy mode per node, how kube-proxy and the CNI agent are deployed, Services with problems, address capacity) and every finding with its evidence", own: &[] },
    Tool { name: "cidrs", command: "cidrs", description: "Node network, pod range and service range, each with every source consulted and why one was chosen; overlaps between them", own: &[] },
    Tool { name: "proxy_mode", command: "proxy-mode", description: "kube-proxy's configured and running mode on each node (iptables, ipvs, nftables), or what replaces it", own: &[] },
    Tool { name: "daemonsets", command: "daemonsets", description: "How kube-proxy and the CNI agent are deployed, which nodes lack a ready one, and why", own: &[] },
    Tool { name: "services", command: "services", description: "Every Service from its ClusterIP to its pods: selector, readiness, endpoints, targetPort, NodePort range, LoadBalancer status, DNS", own: SERVICE_ARGS },
    Tool { name: "capacity", command: "capacity", description: "How full each range is: node podCIDR slots, the CNI's pool, each node's podCIDR, ClusterIPs, NodePorts; address-exhaustion events, duplicate pod IPs, version skew", own: &[] },
    Tool { name: "policies", command: "policies", description: "NetworkPolicies per namespace: which pods are isolated for ingress and egress, policies that select no pod, rules that can never match, admin policies, and whether the CNI enforces them", own: &[] },
    Tool { name: "can_reach", command: "can-reach", description: "Whether FROM may reach TO under the NetworkPolicies and AdminNetworkPolicies, each side's deciding policy and rule, and the smallest policy that would allow a denied flow (printed, never applied)", own: &[
        ("from", "string", "NAMESPACE/POD, NAMESPACE/LABEL=VALUE[,...], svc/NAMESPACE/SERVICE, or an IP or CIDR outside the cluster", true),
        ("to", "string", "The destination, in the same forms", true),
        ("port", "string", "PORT[/PROTOCOL], TCP unless said; without it, any port", false),
    ] },
    Tool { name: "trace", command: "trace", description: "The path kube-proxy should have written for a Service: entry, Service chain, each endpoint with its share, the pod and its node; or, from a host name and path, the Ingress or Gateway API route that serves it, then that Service", own: &[
        ("service", "string", "The Service, NAMESPACE/NAME or NAME with namespace (or give host)", false),
        ("host", "string", "Start at the Ingress or route serving this host name, instead of a Service", false),
        ("path", "string", "With host: the request path (default /)", false),
        ("namespace", "string", "The Service's namespace (default: default)", false),
        ("port", "string", "Only this port (number or name)", false),
        ("node", "string", "Only this node", false),
    ] },
    Tool { name: "diff", command: "diff", description: "What changed between two saved snapshots or report JSON files: new, resolved and unchanged findings; changed ranges, CNI, proxy modes, deployments", own: &[
        ("before", "string", "Path of the earlier snapshot or report", true),
        ("after", "string", "Path of the later snapshot or report", true),
    ] },
];

/// The options every cluster-reading tool takes, as the CLI's global flags.
const COMMON: &[(&str, &str, &str)] = &[
    (
        "kubeconfig",
        "string",
        "Path to the kubeconfig file (default: KUBECONFIG, ~/.kube/config, in-cluster)",
    ),
    ("context", "string", "kubeconfig context to use"),
    (
        "snapshot",
        "string",
        "Read this saved snapshot instead of a cluster",
    ),
    (
        "dump",
        "string",
        "Read this `kubectl cluster-info dump` directory instead of a cluster",
    ),
    (
        "timeout",
        "string",
        "Time limit for the whole collection, e.g. 60s",
    ),
    ("only", "array", "Report only these finding ids"),
    ("skip", "array", "Leave out these finding ids"),
];

fn schema(t: &Tool) -> Value {
    let mut props = serde_json::Map::new();
    let mut required = vec![];
    let common = if t.name == "diff" {
        &COMMON[5..]
    } else {
        COMMON
    };
    for (name, ty, desc) in common {
        let mut p = json!({"type": ty, "description": desc});
        if *ty == "array" {
            p["items"] = json!({"type": "string"});
        }
        props.insert(name.to_string(), p);
    }
    for (name, ty, desc, req) in t.own {
        props.insert(name.to_string(), json!({"type": ty, "description": desc}));
        if *req {
            required.push(*name);
        }
    }
    json!({"type": "object", "properties": props, "required": required, "additionalProperties": false})
}

/// The command line a tool call stands for.
fn argv(t: &Tool, args: &serde_json::Map<String, Value>) -> Result<Vec<String>, String> {
    let mut v = vec!["netcheck".to_string(), t.command.to_string()];
    let known = |k: &str| COMMON.iter().any(|c| c.0 == k) || t.own.iter().any(|c| c.0 == k);
    const POSITIONAL: &[&str] = &["service", "before", "after", "from", "to"];
    // Positional arguments in the order the command takes them.
    for name in POSITIONAL {
        match args.get(*name) {
            Some(Value::String(s)) if known(name) => v.push(s.clone()),
            Some(_) if known(name) => return Err(format!("{name}: expected a string")),
            _ => {}
        }
    }
    for (k, val) in args {
        if !known(k) {
            return Err(format!("unknown argument {k:?} for tool {}", t.name));
        }
        match (k.as_str(), val) {
            (p, _) if POSITIONAL.contains(&p) => {}
            (_, Value::String(s)) => {
                v.push(format!("--{k}"));
                v.push(s.clone());
            }
            (_, Value::Array(a)) => {
                let items: Option<Vec<&str>> = a.iter().map(Value::as_str).collect();
                let items = items.ok_or_else(|| format!("{k}: expected a list of strings"))?;
                if !items.is_empty() {
                    v.push(format!("--{k}"));
                    v.push(items.join(","));
                }
            }
            _ => return Err(format!("{k}: expected a string")),
        }
    }
    v.extend([
        "-o".into(),
        "json".into(),
        "--fail-on".into(),
        "never".into(),
    ]);
    Ok(v)
}

/// Runs one tool: its JSON document, or the error a person would see.
fn call(t: &Tool, args: &serde_json::Map<String, Value>) -> Result<Value, String> {
    let argv = argv(t, args)?;
    let parsed = Cli::try_parse_from(&argv).map_err(|e| e.to_string().trim().to_string())?;
    let diff = match &parsed.command {
        Some(cli::Cmd::Diff(a)) => Some((a.before.clone(), a.after.clone())),
        _ => None,
    };
    let mut s = parsed.settings();
    s.filter.validate()?;
    super::resolve_reach(&mut s)?;
    if let Some((before, after)) = diff {
        let d = super::compare(&s, &before, &after)?;
        return serde_json::to_value(d).map_err(|e| e.to_string());
    }
    let command = s.command.ok_or("no command")?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let cluster = rt.block_on(super::collect(&s)).map_err(|e| e.0);
    rt.shutdown_background();
    let report = super::report_of(&cluster?, &s, command)?;
    serde_json::to_value(report).map_err(|e| e.to_string())
}

fn answer(id: &Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

fn error(id: &Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

/// One message in, at most one out (notifications get none).
fn handle(msg: &Value) -> Option<Value> {
    let id = msg.get("id").cloned();
    let method = msg.get("method").and_then(Value::as_str);
    let Some(id) = id else {
        return None; // a notification, e.g. notifications/initialized
    };
    let Some(method) = method else {
        return Some(error(&id, -32600, "not a request: no method"));
    };
    let params = msg.get("params").cloned().unwrap_or(json!({}));
    Some(match method {
        "initialize" => {
            let asked = params["protocolVersion"].as_str().unwrap_or("");
            let version = VERSIONS
                .iter()
                .find(|v| **v == asked)
                .unwrap_or(&VERSIONS[0]);
            answer(
                &id,
                json!({
                    "protocolVersion": version,
                    "capabilities": {"tools": {"listChanged": false}},
                    "serverInfo": {"name": "netcheck", "version": env!("CARGO_PKG_VERSION")},
                    "instructions": "Read-only answers about a Kubernetes cluster's networking, each with its evidence. Tools take the kubeconfig and context, or a saved snapshot, like the netcheck CLI, and return netcheck/v1 JSON (docs/json-schema.md).",
                }),
            )
        }
        "ping" => answer(&id, json!({})),
        "tools/list" => answer(
            &id,
            json!({"tools": TOOLS.iter().map(|t| json!({
                "name": t.name,
                "description": t.description,
                "inputSchema": schema(t),
                "annotations": {"readOnlyHint": true, "openWorldHint": false},
            })).collect::<Vec<_>>()}),
        ),
        "tools/call" => {
            let name = params["name"].as_str().unwrap_or("");
            let Some(t) = TOOLS.iter().find(|t| t.name == name) else {
                return Some(error(&id, -32602, &format!("unknown tool {name:?}")));
            };
            let args = params["arguments"].as_object().cloned().unwrap_or_default();
            // A failed run is the tool's answer (the model reads why), not a protocol error.
            match call(t, &args) {
                Ok(doc) => answer(
                    &id,
                    json!({
                        "content": [{"type": "text", "text": doc.to_string()}],
                        "structuredContent": doc,
                        "isError": false,
                    }),
                ),
                Err(e) => answer(
                    &id,
                    json!({"content": [{"type": "text", "text": e}], "isError": true}),
                ),
            }
        }
        m => error(&id, -32601, &format!("method not found: {m}")),
    })
}

pub fn main() -> i32 {
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let Ok(line) = line else {
            break;
        };
        if line.trim().is_empty() {
            continue;
        }
        let reply = match serde_json::from_str::<Value>(&line) {
            Ok(msg) => handle(&msg),
            Err(e) => Some(error(&Value::Null, -32700, &format!("parse error: {e}"))),
        };
        if let Some(r) = reply {
            if writeln!(out, "{r}").and_then(|_| out.flush()).is_err() {
                break;
            }
        }
    }
    cli::EXIT_OK
}
