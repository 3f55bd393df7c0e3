//! `netcheck fleet`: one row per cluster, then the findings between clusters.

use super::{print_table, severity, table, Format};
use crate::report::{Fleet, FleetCluster, RangeKind, Severity};
use colored::Colorize;
use std::io::{self, Write};

pub fn render(f: &Fleet, format: Format, w: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *w, f)?;
            writeln!(w)
        }
        Format::Yaml => {
            let s = serde_saphyr::to_string(f).map_err(io::Error::other)?;
            w.write_all(s.as_bytes())
        }
        Format::Table => text(f, w),
        Format::Html => super::html::fleet(f, w),
        Format::Sarif | Format::Junit => Err(io::Error::other(
            "fleet writes -o table, json, yaml or html",
        )),
    }
}

fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {one}s")
    }
}

/// The STATUS column: the error's kind, or the cluster's own findings and skipped reads.
fn status(c: &FleetCluster) -> String {
    if let Some(e) = &c.error {
        return format!("error: {}", e.kind.name()).red().to_string();
    }
    let Some(r) = &c.report else {
        return "-".into();
    };
    let mut parts = Vec::new();
    if r.summary.errors > 0 {
        parts.push(plural(r.summary.errors, "error").red().to_string());
    }
    if r.summary.warnings > 0 {
        parts.push(plural(r.summary.warnings, "warning").yellow().to_string());
    }
    if parts.is_empty() {
        parts.push("ok".green().to_string());
    }
    if !r.skipped.is_empty() {
        parts.push(format!("{} skipped", r.skipped.len()));
    }
    parts.join(", ")
}

/// A range cell: the CIDRs, marked `*` when inferred from addresses in use, `-` when unknown.
fn range(c: &FleetCluster, k: RangeKind) -> String {
    match c.range(k) {
        Some(f) if !f.cidrs.is_empty() => {
            let mark = if c.inferred(k) { "*" } else { "" };
            format!("{}{mark}", crate::cidr::join(&f.cidrs))
        }
        _ => "-".into(),
    }
}

fn text(f: &Fleet, w: &mut dyn Write) -> io::Result<()> {
    writeln!(
        w,
        "netcheck fleet — {} ({} analysed, {} failed)\n",
        plural(f.summary.clusters, "cluster"),
        f.summary.analysed,
        f.summary.failed
    )?;
    let mut t = table(&[
        "CLUSTER",
        "SERVER",
        "VERSION",
        "CNI",
        "PROXY",
        "NODE-NETWORK",
        "POD-RANGE",
        "SERVICE-RANGE",
        "STATUS",
    ]);
    let mut inferred = false;
    for c in &f.clusters {
        let or_dash = |s: Option<String>| s.filter(|s| !s.is_empty()).unwrap_or("-".into());
        inferred |= RangeKind::ALL.iter().any(|&k| c.inferred(k));
        t.add_row(vec![
            c.name.clone(),
            or_dash(c.server.clone()),
            or_dash(c.report.as_ref().and_then(|r| r.server_version.clone())),
            or_dash(c.cni().map(str::to_string)),
            or_dash(c.proxy_mode()),
            range(c, RangeKind::Node),
            range(c, RangeKind::Pod),
            range(c, RangeKind::Service),
            status(c),
        ]);
    }
    print_table(&t, w)?;
    if inferred {
        writeln!(w, "* inferred from addresses in use (a lower bound)")?;
    }
    writeln!(w)?;
    if f.findings.is_empty() {
        writeln!(
            w,
            "{}",
            "No findings: the clusters' ranges are disjoint.".green()
        )?;
    }
    for x in &f.findings {
        writeln!(w, "{} [{}] {}", severity(x.severity), x.id, x.message)?;
        // Overlap messages already name their clusters; list the evidence instead.
        for e in &x.evidence {
            writeln!(w, "    evidence: {e}")?;
        }
        writeln!(w, "    hint: {}", x.hint)?;
    }
    let n = |s: Severity| f.findings.iter().filter(|x| x.severity == s).count();
    writeln!(
        w,
        "\n{} error(s), {} warning(s), {} info across the fleet",
        n(Severity::Error),
        n(Severity::Warning),
        n(Severity::Info)
    )
}
