//! Output: a kubectl-like text report, JSON or YAML. Renderers write to any `Write`.

mod capacity;
pub mod fleet;
pub mod html;
mod machine;
mod netpol;
mod routes;
mod rules;
mod services;

pub use services::Listing;

use crate::report::*;
use colored::Colorize;
use comfy_table::{presets::NOTHING, Table};
use std::io::{self, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Yaml,
    /// One self-contained page with the address map (report, cidrs, fleet)
    Html,
    /// SARIF 2.1.0, for code-scanning dashboards
    Sarif,
    /// JUnit XML: a suite per check, a case per subject; failures at or above --fail-on
    Junit,
}

pub fn render(
    r: &Report,
    format: Format,
    fail_on: Option<Severity>,
    w: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *w, r)?;
            writeln!(w)
        }
        Format::Yaml => {
            let s = serde_saphyr::to_string(r).map_err(io::Error::other)?;
            w.write_all(s.as_bytes())
        }
        Format::Table => text(r, Listing::default(), w),
        Format::Html => html::report(r, w),
        Format::Sarif => machine::sarif(r, w),
        Format::Junit => machine::junit(r, fail_on, w),
    }
}

/// As `render`, with `services`' kubectl-like listing (`-o wide`, `-o name`, `--no-headers`)
/// in place of its plain table.
pub fn render_listing(
    r: &Report,
    format: Format,
    fail_on: Option<Severity>,
    l: Listing,
    w: &mut dyn Write,
) -> io::Result<()> {
    match &r.services {
        Some(s) if format == Format::Table && r.command == "services" => {
            if l.names {
                services::names(s, w)
            } else if l.no_headers {
                services::rows(s, l.wide, w)
            } else {
                text(r, l, w)
            }
        }
        _ => render(r, format, fail_on, w),
    }
}

/// `netcheck diff`: changes, then new and resolved findings.
pub fn diff_view(d: &Diff, format: Format, w: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *w, d)?;
            return writeln!(w);
        }
        Format::Yaml => {
            let s = serde_saphyr::to_string(d).map_err(io::Error::other)?;
            return w.write_all(s.as_bytes());
        }
        Format::Table => {}
        _ => return Err(io::Error::other("diff writes -o table, json or yaml")),
    }
    writeln!(w, "netcheck diff — {} → {}\n", d.before.file, d.after.file)?;
    if d.changes.is_empty() {
        writeln!(w, "No answer changed.")?;
    } else {
        writeln!(w, "{}", "Changed".bold())?;
        for c in &d.changes {
            writeln!(w, "  {}: {} → {}", c.what, c.before, c.after)?;
        }
    }
    for (title, items) in [
        ("New findings", &d.new_findings),
        ("Resolved findings", &d.resolved_findings),
    ] {
        writeln!(w, "\n{} ({})", title.bold(), items.len())?;
        for i in items {
            let about = i
                .subject
                .as_deref()
                .map(|s| format!(" {s}:"))
                .unwrap_or_default();
            writeln!(
                w,
                "  {} [{}]{about} {}",
                severity(i.severity),
                i.id,
                i.message
            )?;
        }
    }
    writeln!(w, "\nUnchanged findings: {}", d.unchanged_findings)
}

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(NOTHING)
        .set_header(header.iter().map(|h| h.to_string()));
    t
}

fn print_table(t: &Table, w: &mut dyn Write) -> io::Result<()> {
    for line in t.lines() {
        writeln!(w, "{}", line.trim_end())?;
    }
    Ok(())
}

fn status(s: FactStatus) -> String {
    match s {
        FactStatus::Known => "known".green().to_string(),
        FactStatus::Inferred => "inferred".yellow().to_string(),
        FactStatus::Unknown => "unknown".red().to_string(),
    }
}

fn severity(s: Severity) -> String {
    match s {
        Severity::Error => "ERROR".red().bold().to_string(),
        Severity::Warning => "WARNING".yellow().bold().to_string(),
        Severity::Info => "INFO".blue().to_string(),
    }
}

fn join(v: &[ipnet::IpNet]) -> String {
    if v.is_empty() {
        "-".into()
    } else {
        crate::cidr::join(v)
    }
}

fn fact_sources(name: &str, f: &Fact, w: &mut dyn Write) -> io::Result<()> {
    writeln!(
        w,
        "{} {} ({}): {}",
        name.bold(),
        join(&f.cidrs),
        status(f.status),
        f.why
    )?;
    for s in &f.sources {
        let mark = match s.status {
            SourceStatus::Found => "✓",
            SourceStatus::Default => "·",
            SourceStatus::Candidate => "~",
            SourceStatus::Skipped => "?",
            SourceStatus::Invalid => "✗",
        };
        let chosen = if Some(s.id) == f.chosen {
            " (chosen)"
        } else {
            ""
        };
        let what = match s.status {
            SourceStatus::Skipped => format!(
                "skipped: {}{}",
                s.evidence,
                s.needs
                    .as_ref()
                    .map(|n| format!(" (needs: {n})"))
                    .unwrap_or_default()
            ),
            SourceStatus::Default => format!("default {}: {}", join(&s.cidrs), s.evidence),
            SourceStatus::Candidate => {
                format!("candidate default {}: {}", join(&s.cidrs), s.evidence)
            }
            SourceStatus::Invalid => format!(
                "invalid {:?}: {}",
                s.raw.clone().unwrap_or_default(),
                s.evidence
            ),
            SourceStatus::Found => format!("{}: {}", join(&s.cidrs), s.evidence),
        };
        let against = s
            .contradicted_by
            .as_ref()
            .map(|c| format!(" [contradicted: {c}]"))
            .unwrap_or_default();
        writeln!(w, "  {mark} {}{chosen}  {what}{against}", s.id.name())?;
    }
    Ok(())
}

fn cidrs(a: &CidrAnswer, w: &mut dyn Write) -> io::Result<()> {
    let mut t = table(&["FACT", "VALUE", "STATUS", "FROM"]);
    for (name, f) in [
        ("node network", &a.node_network),
        ("pod range", &a.pod_cidr),
        ("service range", &a.service_cidr),
    ] {
        t.add_row(vec![
            name.to_string(),
            join(&f.cidrs),
            status(f.status),
            f.chosen.map(|c| c.name()).unwrap_or_else(|| "-".into()),
        ]);
    }
    print_table(&t, w)?;
    writeln!(
        w,
        "\nCNI: {} ({}), from {}",
        a.cni.name.bold(),
        a.cni.ipam,
        a.cni.evidence
    )?;
    writeln!(w)?;
    for (name, f) in [
        ("Node network", &a.node_network),
        ("Pod range", &a.pod_cidr),
        ("Service range", &a.service_cidr),
    ] {
        fact_sources(name, f, w)?;
    }
    if !a.nodes.is_empty() {
        writeln!(w)?;
        let mut t = table(&[
            "NODE",
            "INTERNAL-IP",
            "EXTERNAL-IP",
            "NETWORK",
            "POD-CIDRS",
            "READY",
        ]);
        for n in a.nodes.iter().take(50) {
            let or_dash = |v: &[String]| {
                if v.is_empty() {
                    "-".to_string()
                } else {
                    v.join(",")
                }
            };
            let ready = n
                .ready
                .map(|r| if r { "True" } else { "False" })
                .unwrap_or("?");
            t.add_row(vec![
                n.name.clone(),
                or_dash(&n.internal_ips),
                or_dash(&n.external_ips),
                join(&n.networks),
                or_dash(&n.pod_cidrs),
                ready.to_string(),
            ]);
        }
        print_table(&t, w)?;
        if a.nodes.len() > 50 {
            writeln!(
                w,
                "... and {} more nodes (all of them in -o json)",
                a.nodes.len() - 50
            )?;
        }
    }
    Ok(())
}

fn proxy(p: &ProxyAnswer, w: &mut dyn Write) -> io::Result<()> {
    writeln!(
        w,
        "{} {} ({})",
        "Service proxy:".bold(),
        p.implementation.bold(),
        p.implementation_evidence
    )?;
    writeln!(
        w,
        "Configured mode: {}",
        p.configured_mode.as_deref().unwrap_or("unknown")
    )?;
    for m in &p.configured {
        let ig = if m.ignored { " (ignored)" } else { "" };
        writeln!(w, "  {} {}{ig}: {}", m.source, m.mode, m.evidence)?;
    }
    let modes = if p.running_modes.is_empty() {
        "none read from logs".to_string()
    } else {
        p.running_modes.join(", ")
    };
    writeln!(w, "Running mode(s): {modes}\n")?;
    let mut t = table(&["NODE", "POD", "CONFIGURED", "RUNNING", "BASIS", "EVIDENCE"]);
    for n in p.nodes.iter().take(50) {
        let ev = n.failure.clone().unwrap_or_else(|| n.evidence.clone());
        t.add_row(vec![
            n.node.clone(),
            n.pod.clone().unwrap_or("-".into()),
            n.configured.clone().unwrap_or("-".into()),
            n.running.clone().unwrap_or("-".into()),
            n.basis.clone(),
            ev,
        ]);
    }
    print_table(&t, w)?;
    if p.nodes.len() > 50 {
        let logged = p.nodes.iter().filter(|n| n.basis == "log").count();
        writeln!(
            w,
            "... and {} more nodes ({logged} of {} read from a log; all in -o json)",
            p.nodes.len() - 50,
            p.nodes.len()
        )?;
    }
    Ok(())
}

fn deployments(d: &[Deployment], w: &mut dyn Write) -> io::Result<()> {
    let mut t = table(&[
        "COMPONENT",
        "DEPLOYED AS",
        "NAME",
        "DESIRED",
        "CURRENT",
        "READY",
        "UP-TO-DATE",
        "AVAILABLE",
        "NODES READY",
    ]);
    for x in d {
        let c = |f: fn(&Counts) -> i64| {
            x.counts
                .as_ref()
                .map(|k| f(k).to_string())
                .unwrap_or("-".into())
        };
        t.add_row(vec![
            x.component.clone(),
            x.kind.clone(),
            x.name.clone().unwrap_or("-".into()),
            c(|k| k.desired),
            c(|k| k.current),
            c(|k| k.ready),
            c(|k| k.up_to_date),
            c(|k| k.available),
            if x.unknown.is_empty() {
                format!("{}/{}", x.nodes_ready, x.nodes_total)
            } else {
                format!(
                    "{}/{} ({} unknown)",
                    x.nodes_ready,
                    x.nodes_total,
                    x.unknown.len()
                )
            },
        ]);
    }
    print_table(&t, w)?;
    for x in d {
        writeln!(w, "  {}: {}", x.component, x.evidence)?;
        for m in x.missing.iter().take(20) {
            let tag = if m.by_design { " (by design)" } else { "" };
            writeln!(w, "    node {} lacks it{tag}: {}", m.node, m.reason)?;
        }
        if x.missing.len() > 20 {
            writeln!(w, "    ... and {} more nodes", x.missing.len() - 20)?;
        }
        for u in x.unknown.iter().take(20) {
            writeln!(w, "    node {}: unknown: {}", u.node, u.reason)?;
        }
        if x.unknown.len() > 20 {
            writeln!(w, "    ... and {} more nodes unknown", x.unknown.len() - 20)?;
        }
    }
    Ok(())
}

fn text(r: &Report, l: Listing, w: &mut dyn Write) -> io::Result<()> {
    let src = &r.source;
    let from = src
        .file
        .clone()
        .or(src.context.clone().map(|c| format!("context {c}")))
        .or(src.server.clone())
        .unwrap_or_default();
    writeln!(
        w,
        "netcheck {} — {} {}{}\n",
        r.command,
        src.mode,
        from,
        r.server_version
            .as_ref()
            .map(|v| format!(" (Kubernetes {v})"))
            .unwrap_or_default()
    )?;
    let explain = |topic: &str, w: &mut dyn Write| -> io::Result<()> {
        for e in r.explain.iter().filter(|e| e.topic == topic) {
            writeln!(w, "  {} {}", "How to check by hand:".cyan(), e.topic)?;
            for s in &e.steps {
                writeln!(w, "    $ {}\n      → {}", s.command, s.look_for)?;
            }
        }
        Ok(())
    };
    if let Some(a) = &r.cidrs {
        cidrs(a, w)?;
        for t in ["node network", "pod range", "service range"] {
            explain(t, w)?;
        }
        writeln!(w)?;
    }
    if let Some(c) = &r.capacity {
        if r.command == "capacity" {
            capacity::full(c, w)?;
        } else {
            capacity::lines(c, w)?;
        }
        explain("capacity", w)?;
        writeln!(w)?;
    }
    if let Some(p) = &r.proxy {
        proxy(p, w)?;
        explain("proxy mode", w)?;
        writeln!(w)?;
    }
    if let Some(d) = &r.deployments {
        deployments(d, w)?;
        explain("deployment", w)?;
        writeln!(w)?;
    }
    if let Some(s) = &r.services {
        if r.command == "services" {
            services::services(s, l.wide, w)?;
        } else {
            services::summary(s, w)?;
        }
        for e in r.explain.iter().filter(|e| e.topic.starts_with("service ")) {
            explain(&e.topic, w)?;
        }
        writeln!(w)?;
    }
    if let Some(a) = &r.rules {
        rules::rules(a, w)?;
        writeln!(w)?;
    }
    if let Some(p) = &r.policies {
        netpol::policies(p, r.command == "policies", w)?;
        writeln!(w)?;
    }
    if let Some(a) = &r.reach {
        netpol::reach(a, w)?;
        writeln!(w)?;
    }
    if let Some(t) = &r.trace {
        rules::trace(t, w)?;

        writeln!(w)?;
    }
    if r.findings.is_empty() {
        writeln!(w, "{}", "No findings.".green())?;
    }

    for f in &r.findings {
        writeln!(w, "{} [{}] {}", severity(f.severity), f.id, f.message)?;
        for s in &f.subjects {
            writeln!(w, "    - {s}")?;
        }
        if let Some(n) = f.count.filter(|n| *n > f.subjects.len()) {
            writeln!(w, "    ... {} in all", n)?;
        }
        for e in &f.evidence {
            writeln!(w, "    evidence: {e}")?;
        }
        writeln!(w, "    hint: {}", f.hint)?;
    }
    for s in &r.skipped {
        let needs = s
            .needs
            .as_ref()
            .map(|n| format!(" (needs: {n})"))
            .unwrap_or_default();
        writeln!(w, "{} {}: {}{needs}", "SKIPPED".magenta(), s.what, s.reason)?;
    }
    writeln!(
        w,
        "\n{} error(s), {} warning(s), {} info",
        r.summary.errors, r.summary.warnings, r.summary.infos
    )
}
