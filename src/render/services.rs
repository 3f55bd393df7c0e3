//! The Services view: a `kubectl get services`-shaped table with endpoints and status, the
//! cluster-wide context (endpoints API, NodePort range, load balancers, DNS), and for one
//! Service a `kubectl describe`-like detail with the pods and nodes behind each endpoint.

use super::{print_table, table};
use crate::report::*;
use colored::Colorize;
use comfy_table::{presets::NOTHING, Table};
use std::io::{self, Write};

/// `80:30007/TCP,443/TCP`, as kubectl prints PORT(S).
fn ports(r: &ServiceRow) -> String {
    if r.ports.is_empty() {
        return "<none>".into();
    }
    r.ports
        .iter()
        .map(|p| match p.node_port {
            Some(np) => format!("{}:{np}/{}", p.port, p.protocol),
            None => format!("{}/{}", p.port, p.protocol),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// EXTERNAL-IP as kubectl prints it.
fn external(r: &ServiceRow) -> String {
    let mut v: Vec<String> = match (&r.load_balancer, &r.external_name) {
        (Some(lb), _) if lb.pending && r.external_ips.is_empty() => return "<pending>".into(),
        (Some(lb), _) => lb.ingress.clone(),
        (None, Some(n)) => return n.clone(),
        _ => vec![],
    };
    v.extend(r.external_ips.iter().cloned());
    if v.is_empty() {
        "<none>".into()
    } else {
        v.join(",")
    }
}

fn cluster_ip(r: &ServiceRow) -> String {
    if r.headless {
        return "None".into();
    }
    r.cluster_ips
        .first()
        .map(|c| c.ip.clone())
        .unwrap_or_else(|| "<none>".into())
}

/// Why the read of `what` this answer rests on failed, if it did.
fn unread<'a>(s: &'a ServicesAnswer, what: &str) -> Option<&'a str> {
    s.unread
        .iter()
        .find(|e| e.what == what)
        .map(|e| e.reason.as_str())
}

/// Whether any endpoints were read (EndpointSlices or core Endpoints).
fn endpoints_read(s: &ServicesAnswer) -> bool {
    s.endpoints_from != "none"
}

fn endpoints(s: &ServicesAnswer, r: &ServiceRow) -> String {
    match r.endpoint_counts() {
        None => "-".into(),
        Some(_) if !endpoints_read(s) => "<unknown>".into(),
        Some((ready, all)) => format!("{ready}/{all}"),
    }
}

fn status(r: &ServiceRow) -> String {
    let mut ids: Vec<&str> = r.problems.iter().map(|p| p.id.as_str()).collect();
    ids.dedup();
    match r.status.as_str() {
        "ok" => "ok".green().to_string(),
        "error" => ids.join(",").red().to_string(),
        "warning" => ids.join(",").yellow().to_string(),
        _ => ids.join(",").blue().to_string(),
    }
}

fn context(s: &ServicesAnswer, w: &mut dyn Write) -> io::Result<()> {
    writeln!(
        w,
        "{} {} ({})",
        "Endpoints from:".bold(),
        s.endpoints_from,
        s.endpoints_evidence
    )?;
    let np = &s.node_port_range;
    writeln!(
        w,
        "{} {} ({}: {})",
        "NodePort range:".bold(),
        np.range.as_deref().unwrap_or("unknown"),
        np.status,
        np.evidence
    )?;
    // Each implementation found, then where none could be looked for.
    let mut lbs: Vec<String> = s
        .load_balancers
        .iter()
        .map(|lb| format!("{} ({})", lb.name, lb.evidence))
        .collect();
    if s.load_balancers.is_empty() {
        lbs.push(if s.load_balancers_unseen.is_empty() {
            "none found".into()
        } else {
            "unknown: none found where netcheck could look".into()
        });
    }
    lbs.extend(
        s.load_balancers_unseen
            .iter()
            .map(|u| format!("not looked for: {u}")),
    );
    for (i, lb) in lbs.iter().enumerate() {
        let head = if i == 0 {
            "Load balancers:"
        } else {
            "               "
        };
        writeln!(w, "{} {lb}", head.bold())?;
    }
    if let Some(d) = &s.dns {
        let service = match (&d.service, &d.cluster_ip) {
            (Some(svc), Some(ip)) => format!("{svc} {ip}"),
            (Some(svc), None) => format!("{svc} (no ClusterIP)"),
            (None, _) => match unread(s, "services") {
                Some(why) => format!("DNS Service unknown (Services could not be read: {why})"),
                None => "no DNS Service".into(),
            },
        };
        let mut parts = vec![service];
        if !d.kubelet_cluster_dns.is_empty() {
            parts.push(format!(
                "kubelets use {} ({})",
                d.kubelet_cluster_dns.join(","),
                d.kubelet_evidence
            ));
        }
        if !d.corefile_zones.is_empty() {
            parts.push(format!("CoreDNS serves {}", d.corefile_zones.join(" ")));
        }
        if let Some(f) = &d.corefile_forward {
            parts.push(format!("forwards {f}"));
        }
        if let Some(l) = &d.node_local {
            parts.push(format!("NodeLocal DNSCache on {l}"));
        }
        writeln!(w, "{} {}", "DNS:".bold(), parts.join("; "))?;
    }
    Ok(())
}

/// How `services` lists Services as text, after kubectl's habits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Listing {
    /// `-o wide`: SELECTOR, PODS and NODES columns too.
    pub wide: bool,
    /// `-o name`: `service/NAMESPACE/NAME` lines only.
    pub names: bool,
    /// `--no-headers`: the rows only.
    pub no_headers: bool,
}

fn header(wide: bool) -> Vec<&'static str> {
    let mut h = vec![
        "NAMESPACE",
        "NAME",
        "TYPE",
        "CLUSTER-IP",
        "EXTERNAL-IP",
        "PORT(S)",
        "ENDPOINTS",
        "STATUS",
    ];
    if wide {
        h.extend(["SELECTOR", "PODS", "NODES"]);
    }
    h
}

fn row(s: &ServicesAnswer, r: &ServiceRow, wide: bool) -> Vec<String> {
    let mut v = vec![
        r.namespace.clone(),
        r.name.clone(),
        r.kind.clone(),
        cluster_ip(r),
        external(r),
        ports(r),
        endpoints(s, r),
        status(r),
    ];
    if wide {
        v.extend([selector(r), pods(r), nodes(r)]);
    }
    v
}

/// `app=web,tier=front`, as kubectl's wide SELECTOR column.
fn selector(r: &ServiceRow) -> String {
    match &r.selector {
        Some(sel) if !sel.is_empty() => sel
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(","),
        _ => "<none>".into(),
    }
}

/// Ready and selected pods; `-` when there is no selector to select them.
fn pods(r: &ServiceRow) -> String {
    match &r.selector {
        Some(sel) if !sel.is_empty() => format!("{}/{}", r.ready_pods, r.selected_pods),
        _ => "-".into(),
    }
}

/// The nodes the endpoints' pods run on.
fn nodes(r: &ServiceRow) -> String {
    let mut n: Vec<&str> = r
        .endpoints
        .iter()
        .filter_map(|e| e.node.as_deref())
        .collect();
    n.sort_unstable();
    n.dedup();
    if n.is_empty() {
        "<none>".into()
    } else {
        n.join(",")
    }
}

fn list(s: &ServicesAnswer, wide: bool, w: &mut dyn Write) -> io::Result<()> {
    let mut t = table(&header(wide));
    const MAX_ROWS: usize = 200;
    for r in s.services.iter().take(MAX_ROWS) {
        t.add_row(row(s, r, wide));
    }
    print_table(&t, w)?;
    if s.services.len() > MAX_ROWS {
        writeln!(
            w,
            "... and {} more Services (all of them in -o json)",
            s.services.len() - MAX_ROWS
        )?;
    }
    Ok(())
}

/// `--no-headers`: every row, for scripts, with nothing around them.
pub fn rows(s: &ServicesAnswer, wide: bool, w: &mut dyn Write) -> io::Result<()> {
    if s.services.is_empty() {
        return Ok(());
    }
    let mut t = Table::new();
    t.load_preset(NOTHING);
    for r in &s.services {
        t.add_row(row(s, r, wide));
    }
    print_table(&t, w)
}

/// `-o name`: as kubectl's `service/NAME`, with the namespace kept, since the list spans
/// namespaces.
pub fn names(s: &ServicesAnswer, w: &mut dyn Write) -> io::Result<()> {
    for r in &s.services {
        writeln!(w, "service/{}/{}", r.namespace, r.name)?;
    }
    Ok(())
}

/// One Service in the shape of `kubectl describe service`, with each endpoint's pod and node.
fn detail(s: &ServicesAnswer, r: &ServiceRow, w: &mut dyn Write) -> io::Result<()> {
    // As kubectl aligns them: two spaces after the longest key, at least one after any.
    let line = |w: &mut dyn Write, k: &str, v: String| writeln!(w, "{:<25} {v}", format!("{k}:"));
    line(w, "Name", r.name.clone())?;
    line(w, "Namespace", r.namespace.clone())?;
    line(
        w,
        "Selector",
        r.selector
            .as_ref()
            .map(|s| {
                s.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_else(|| "<none>".into()),
    )?;
    line(w, "Type", r.kind.clone())?;
    let ips: Vec<String> = r
        .cluster_ips
        .iter()
        .map(|c| match c.in_range {
            Some(true) => format!("{} (in the service range)", c.ip),
            Some(false) => format!("{} (OUTSIDE the service range)", c.ip),
            None => c.ip.clone(),
        })
        .collect();
    line(
        w,
        "IPs",
        if r.headless {
            "None (headless)".into()
        } else if ips.is_empty() {
            "<none>".into()
        } else {
            ips.join(", ")
        },
    )?;
    if let Some(n) = &r.external_name {
        line(w, "External Name", n.clone())?;
    }
    if !r.external_ips.is_empty() {
        line(w, "External IPs", r.external_ips.join(","))?;
    }
    if let Some(lb) = &r.load_balancer {
        let v = if lb.pending {
            "<pending>".to_string()
        } else {
            lb.ingress.join(", ")
        };
        let class = lb
            .class
            .as_ref()
            .map(|c| format!(" (class {c})"))
            .unwrap_or_default();
        line(w, "LoadBalancer Ingress", format!("{v}{class}"))?;
    }
    for p in &r.ports {
        line(
            w,
            "Port",
            format!(
                "{}  {}/{}",
                p.name.as_deref().unwrap_or("<unset>"),
                p.port,
                p.protocol
            ),
        )?;
        let resolved = match p.resolved.as_slice() {
            [] => String::new(),
            [one] if one.to_string() == p.target_port => String::new(),
            v => format!(
                " (resolves to {})",
                v.iter()
                    .map(|n| n.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        };
        line(
            w,
            "TargetPort",
            format!("{}/{}{resolved}", p.target_port, p.protocol),
        )?;
        if let Some(np) = p.node_port {
            line(
                w,
                "NodePort",
                format!(
                    "{}  {np}/{}",
                    p.name.as_deref().unwrap_or("<unset>"),
                    p.protocol
                ),
            )?;
        }
        // As kubectl: the ready addresses with the port they resolve to, three at most.
        let ready: Vec<String> = r
            .endpoints
            .iter()
            .filter(|e| e.ready)
            .map(|e| match p.resolved.as_slice() {
                [n] if e.ip.contains(':') => format!("[{}]:{n}", e.ip),
                [n] => format!("{}:{n}", e.ip),
                _ => e.ip.clone(),
            })
            .collect();
        let more = ready.len().saturating_sub(3);
        let mut shown = ready.into_iter().take(3).collect::<Vec<_>>().join(",");
        if more > 0 {
            shown.push_str(&format!(" + {more} more..."));
        }
        if !endpoints_read(s) {
            line(
                w,
                "Endpoints",
                format!("<unknown> ({})", s.endpoints_evidence),
            )?;
            continue;
        }
        line(
            w,
            "Endpoints",
            format!(
                "{}{}({} ready, {} serving while terminating, {} not ready)",
                shown,
                if shown.is_empty() { "" } else { " " },
                p.ready,
                p.serving,
                p.not_ready
            ),
        )?;
    }
    line(
        w,
        "Session Affinity",
        r.session_affinity.clone().unwrap_or_else(|| "None".into()),
    )?;
    if let Some(p) = &r.external_traffic_policy {
        line(w, "External Traffic Policy", p.clone())?;
    }
    if let Some(p) = &r.internal_traffic_policy {
        line(w, "Internal Traffic Policy", p.clone())?;
    }
    if let Some(n) = &r.local_nodes {
        line(
            w,
            "Answering nodes",
            if n.is_empty() {
                "none (no ready endpoint on any node)".into()
            } else {
                n.join(", ")
            },
        )?;
    }
    if r.selector.is_some() {
        line(
            w,
            "Pods",
            match unread(s, "pods") {
                Some(why) => format!("<unknown> (pods could not be read: {why})"),
                None => format!("{} selected, {} ready", r.selected_pods, r.ready_pods),
            },
        )?;
    }
    if !r.endpoints.is_empty() {
        writeln!(w)?;
        let mut t = table(&["ENDPOINT", "POD", "NODE", "READY", "SERVING", "TERMINATING"]);
        for e in &r.endpoints {
            let yes = |b: bool| if b { "true" } else { "false" }.to_string();
            t.add_row(vec![
                e.ip.clone(),
                e.pod.clone().unwrap_or_else(|| "-".into()),
                e.node.clone().unwrap_or_else(|| "-".into()),
                yes(e.ready),
                yes(e.serving),
                yes(e.terminating),
            ]);
        }
        print_table(&t, w)?;
    }
    if !r.reached_by.is_empty() {
        line(w, "Reached by", r.reached_by.join(", "))?;
    }
    for p in &r.problems {
        writeln!(w, "{} [{}] {}", super::severity(p.severity), p.id, p.detail)?;
    }
    Ok(())
}

/// The `services` command: context, then one Service in detail or the table.
pub fn services(s: &ServicesAnswer, wide: bool, w: &mut dyn Write) -> io::Result<()> {
    context(s, w)?;
    writeln!(w)?;
    match s.services.as_slice() {
        [] => match unread(s, "services") {
            Some(why) => writeln!(w, "The Services could not be read: {why}"),
            None => writeln!(w, "No Service matches."),
        },
        [one] if s.shown == "one" => detail(s, one, w),
        _ => list(s, wide, w),
    }?;
    match &s.routes {
        Some(a) => super::routes::routes(a, false, w),
        None => Ok(()),
    }
}

/// In `report`: the counts by type, and only the Services with a problem.
pub fn summary(s: &ServicesAnswer, w: &mut dyn Write) -> io::Result<()> {
    let c = &s.counts;
    let types: Vec<String> = c.by_type.iter().map(|(k, n)| format!("{k} {n}")).collect();
    if let Some(why) = unread(s, "services") {
        writeln!(
            w,
            "{} unknown (the Services could not be read: {why})",
            "Services:".bold()
        )?;
    } else {
        writeln!(
            w,
            "{} {} ({}; {} headless, {} without selector), {} with problems",
            "Services:".bold(),
            c.total,
            if types.is_empty() {
                "none".to_string()
            } else {
                types.join(", ")
            },
            c.headless,
            c.without_selector,
            c.with_problems
        )?;
    }
    context(s, w)?;
    if !s.services.is_empty() {
        writeln!(w)?;
        list(s, false, w)?;
    }
    match &s.routes {
        Some(a) => super::routes::routes(a, true, w),
        None => Ok(()),
    }
}
