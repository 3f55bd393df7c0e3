//! `can-reach` and `policies` as text.

use crate::report::{Enforcement, PoliciesAnswer, ReachAnswer, SideVerdict, Verdict};
use colored::Colorize;
use std::io::{self, Write};

/// Pod names listed per namespace in the text view; JSON has them all.
const NAMES: usize = 8;

fn verdict(v: Verdict) -> String {
    match v {
        Verdict::Allowed => "ALLOWED".green().bold().to_string(),
        Verdict::Denied => "DENIED".red().bold().to_string(),
        Verdict::Unknown => "UNKNOWN".yellow().bold().to_string(),
    }
}

fn enforcement(e: &Enforcement, w: &mut dyn Write) -> io::Result<()> {
    let yes = match e.enforces.as_str() {
        "yes" => "enforces NetworkPolicy".green().to_string(),
        "no" => "does NOT enforce NetworkPolicy".red().bold().to_string(),
        _ => "may or may not enforce NetworkPolicy".yellow().to_string(),
    };
    writeln!(w, "CNI {}: {yes} ({})", e.cni, e.why)
}

fn side(name: &str, s: &SideVerdict, w: &mut dyn Write) -> io::Result<()> {
    writeln!(w, "    {name}: {} ({})", verdict(s.verdict), s.decided_by)?;
    for r in &s.reasons {
        writeln!(w, "      {r}")?;
    }
    Ok(())
}

pub fn reach(a: &ReachAnswer, w: &mut dyn Write) -> io::Result<()> {
    let port = a
        .port
        .as_deref()
        .map(|p| format!(" on {p}"))
        .unwrap_or_else(|| " (any port)".into());
    writeln!(
        w,
        "{} {} -> {}{port}: {}",
        "Can reach?".bold(),
        a.from,
        a.to,
        verdict(a.verdict)
    )?;
    if a.pairs_total > 1 {
        writeln!(
            w,
            "  {} pod pairs: {} allowed, {} denied, {} unknown",
            a.pairs_total, a.allowed, a.denied, a.unknown
        )?;
    }
    write!(w, "  ")?;
    enforcement(&a.enforcement, w)?;
    for p in &a.pairs {
        writeln!(w, "  {} -> {}: {}", p.from, p.to, verdict(p.verdict))?;
        if let Some(s) = &p.egress {
            side("egress", s, w)?;
        }
        if let Some(s) = &p.ingress {
            side("ingress", s, w)?;
        }
    }
    if a.pairs_total > a.pairs.len() {
        writeln!(
            w,
            "  ... {} more pairs (-o json lists the first {})",
            a.pairs_total - a.pairs.len(),
            a.pairs.len()
        )?;
    }
    for n in &a.not_evaluated {
        writeln!(w, "  {} {n}", "not evaluated:".yellow())?;
    }
    if let Some(s) = &a.suggestion {
        writeln!(w, "\n{} {}", "Suggestion:".cyan(), s.note)?;
        for l in s.yaml.lines() {
            writeln!(w, "  {l}")?;
        }
    }
    Ok(())
}

pub fn policies(a: &PoliciesAnswer, full: bool, w: &mut dyn Write) -> io::Result<()> {
    let n: usize = a.namespaces.iter().map(|n| n.policies.len()).sum();
    writeln!(
        w,
        "{} {n} NetworkPolicies in {} namespaces, {} admin policies",
        "NetworkPolicy:".bold(),
        a.namespaces.len(),
        a.admin.len()
    )?;
    write!(w, "  ")?;
    enforcement(&a.enforcement, w)?;
    for u in &a.unknown {
        writeln!(w, "  unknown, because {u}")?;
    }
    if !full {
        return Ok(());
    }
    let names = |v: &[String]| {
        let mut s = v.iter().take(NAMES).cloned().collect::<Vec<_>>().join(", ");
        if v.len() > NAMES {
            s.push_str(&format!(", ... ({} in all)", v.len()));
        }
        s
    };
    for ns in &a.namespaces {
        writeln!(
            w,
            "  {} ({} pods): {}",
            ns.namespace.bold(),
            ns.pods,
            ns.policies.join(", ")
        )?;
        writeln!(
            w,
            "    isolated for ingress: {}",
            if ns.ingress_isolated.is_empty() {
                "none".into()
            } else {
                names(&ns.ingress_isolated)
            }
        )?;
        writeln!(
            w,
            "    isolated for egress:  {}",
            if ns.egress_isolated.is_empty() {
                "none".into()
            } else {
                names(&ns.egress_isolated)
            }
        )?;
    }
    for x in &a.admin {
        let prio = x
            .priority
            .map(|p| format!(" priority {p}"))
            .unwrap_or_default();
        let err = x
            .error
            .as_deref()
            .map(|e| format!(" (not evaluated: {e})"))
            .unwrap_or_default();
        writeln!(w, "  {} {}{prio}: {} pods{err}", x.kind, x.name, x.pods)?;
    }
    for x in &a.not_evaluated {
        writeln!(
            w,
            "  {} {} {}: {}",
            "not evaluated:".yellow(),
            x.count,
            x.kind,
            names(&x.names)
        )?;
    }
    Ok(())
}
