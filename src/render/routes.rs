//! From outside in (#19): the classes, Gateways and routes in front of the Services, and in
//! `trace --host` the route a request takes.

use super::{print_table, table};
use crate::report::*;
use colored::Colorize;
use std::io::{self, Write};

fn problems(ps: &[Problem], indent: &str, w: &mut dyn Write) -> io::Result<()> {
    for p in ps {
        let sev = super::severity(p.severity);
        writeln!(w, "{indent}{sev} [{}] {}", p.id, p.detail)?;
    }
    Ok(())
}

/// All rows, or (in `report`) only those with a problem.
pub fn routes(a: &RoutesAnswer, problems_only: bool, w: &mut dyn Write) -> io::Result<()> {
    let keep = |status: &str| !problems_only || status != "ok";
    let rows = a.classes.iter().map(|k| &k.status);
    let rows = rows.chain(a.gateways.iter().map(|g| &g.status));
    let mut rows = rows.chain(a.routes.iter().map(|r| &r.status));
    let skipped: Vec<String> = a
        .apis
        .iter()
        .filter_map(|x| Some(format!("{}: {}", x.resource, x.reason.as_ref()?)))
        .collect();
    // In `report`, nothing to say is said by nothing.
    if problems_only && skipped.is_empty() && !rows.any(|s| keep(s)) {
        return Ok(());
    }
    writeln!(w, "\n{}", "Ingress and Gateway API:".bold())?;
    for (status, what) in [("not-installed", "not installed"), ("not-read", "not read")] {
        let names: Vec<&str> = a
            .apis
            .iter()
            .filter(|x| x.status == status)
            .map(|x| x.resource.split('.').next().unwrap_or(""))
            .collect();
        if !names.is_empty() {
            writeln!(w, "  {what}: {}", names.join(", "))?;
        }
    }
    for s in &skipped {
        writeln!(w, "  skipped {s}")?;
    }
    for k in a.classes.iter().filter(|k| keep(&k.status)) {
        let default = if k.default { " (default)" } else { "" };
        writeln!(
            w,
            "{} {}{default}: {}, running {} ({})",
            k.kind, k.name, k.controller, k.running, k.running_evidence
        )?;
        problems(&k.problems, "  ", w)?;
    }
    for g in a.gateways.iter().filter(|g| keep(&g.status)) {
        let listeners: Vec<String> = g
            .listeners
            .iter()
            .map(|l| {
                let attached = l
                    .attached_routes
                    .map(|n| format!(" {n} routes"))
                    .unwrap_or_default();
                format!("{} {}/{}{attached}", l.name, l.protocol, l.port)
            })
            .collect();
        writeln!(
            w,
            "Gateway {}/{} class {}: addresses {}; listeners {}",
            g.namespace,
            g.name,
            g.class,
            if g.addresses.is_empty() {
                "none".into()
            } else {
                g.addresses.join(",")
            },
            listeners.join(", ")
        )?;
        problems(&g.problems, "  ", w)?;
    }
    let rows: Vec<&RouteRow> = a.routes.iter().filter(|r| keep(&r.status)).collect();
    if rows.is_empty() {
        return Ok(());
    }
    let mut t = table(&["ROUTE", "VIA", "HOSTS", "BACKENDS", "STATUS"]);
    for r in &rows {
        let backends: Vec<String> = r
            .backends
            .iter()
            .map(|b| {
                let port = b
                    .port
                    .as_deref()
                    .map(|p| format!(":{p}"))
                    .unwrap_or_default();
                let path = b
                    .path
                    .as_deref()
                    .map(|p| format!("{p} "))
                    .unwrap_or_default();
                format!("{path}{}{port}", b.target.trim_start_matches("service "))
            })
            .collect();
        t.add_row(vec![
            crate::discover::routes::route_name(r),
            r.parents.join(","),
            if r.hostnames.is_empty() {
                "*".into()
            } else {
                r.hostnames.join(",")
            },
            backends.join("\n"),
            r.status.clone(),
        ]);
    }
    print_table(&t, w)?;
    for r in rows.iter().filter(|r| !r.problems.is_empty()) {
        writeln!(w, "{}", crate::discover::routes::route_name(r))?;
        problems(&r.problems, "  ", w)?;
    }
    Ok(())
}

/// `trace --host --path`: the matching routes, the first followed.
pub fn entry(e: &TraceEntry, w: &mut dyn Write) -> io::Result<()> {
    writeln!(w, "{} {}{}", "From".bold(), e.host, e.path)?;
    for (i, m) in e.matches.iter().enumerate() {
        let port = m
            .backend
            .port
            .as_deref()
            .map(|p| format!(" port {p}"))
            .unwrap_or_default();
        let how = if i == 0 {
            "→"
        } else {
            "  (also matches, not followed)"
        };
        writeln!(
            w,
            "  {how} {} [{}] via {}: {}{port}",
            m.route,
            m.rule,
            m.parents.join(", "),
            m.backend.target
        )?;
        if i == 0 {
            problems(&m.problems, "    ", w)?;
        }
    }
    Ok(())
}
