//! `netcheck rules`: a line per rule dump and its differences from the API; `netcheck trace`:
//! the path of a packet, hop by hop, as `iptables -L` would show it chain after chain.

use super::{print_table, table};
use crate::report::*;
use colored::Colorize;
use std::io::{self, Write};

/// Differences listed per node in the text view; -o json has them all.
const SHOWN: usize = 20;

pub fn rules(a: &RulesAnswer, w: &mut dyn Write) -> io::Result<()> {
    writeln!(w, "{}", "Rules on nodes".bold())?;
    if let Some(u) = &a.unknown {
        return writeln!(w, "  unknown: {u}");
    }
    let mut t = table(&[
        "NODE",
        "SOURCE",
        "MODE",
        "RUNNING",
        "ENTRIES",
        "COMPARED",
        "AGREE",
        "PROBLEMS",
        "MASQUERADE",
    ]);
    for n in &a.nodes {
        t.add_row(vec![
            n.node.clone(),
            n.source.clone(),
            n.mode.clone().unwrap_or_else(|| "-".into()),
            n.expected_mode.clone().unwrap_or_else(|| "?".into()),
            n.entries.to_string(),
            n.compared.to_string(),
            n.agreeing.to_string(),
            if n.error.is_some() {
                "unreadable".into()
            } else {
                n.problems.len().to_string()
            },
            if n.masquerade.is_empty() {
                "-".into()
            } else {
                n.masquerade.join(",")
            },
        ]);
    }
    print_table(&t, w)?;
    for n in &a.nodes {
        if let Some(e) = &n.error {
            writeln!(w, "  {} {}: {e}", "unreadable".red(), n.node)?;
        }
        for p in n.problems.iter().take(SHOWN) {
            writeln!(
                w,
                "  {} {} [{}] {}",
                n.node,
                p.entry,
                p.id,
                p.service.as_deref().unwrap_or("")
            )?;
        }
        if n.problems.len() > SHOWN {
            writeln!(
                w,
                "  {} ... {} more differences (-o json lists them all)",
                n.node,
                n.problems.len() - SHOWN
            )?;
        }
        for note in &n.notes {
            writeln!(w, "  {} {}: {note}", "note".dimmed(), n.node)?;
        }
    }
    Ok(())
}

pub fn trace(t: &TraceAnswer, w: &mut dyn Write) -> io::Result<()> {
    if let Some(e) = &t.entry {
        super::routes::entry(e, w)?;
    }
    writeln!(w, "{} {}", "Trace".bold(), t.service)?;
    for p in &t.paths {
        let whence = match (&p.node, p.observed) {
            (Some(n), true) => format!("observed on {n}, {}", p.source),
            _ => format!("{} mode, {}", p.mode, p.source)
                .yellow()
                .to_string(),
        };
        writeln!(
            w,
            "\n{} {} {} ({whence})",
            p.port_name.bold(),
            p.entry,
            p.address
        )?;
        if let Some(r) = &p.rule {
            writeln!(w, "  {r}")?;
        }
        if p.reject {
            writeln!(
                w,
                "  → {} (no endpoints{})",
                "rejected".red(),
                if p.local_only { " on this node" } else { "" }
            )?;
        } else if let Some(ch) = &p.chain {
            writeln!(
                w,
                "  → {ch}{}",
                if p.local_only {
                    " (node-local endpoints only)"
                } else {
                    ""
                }
            )?;
        }
        for (i, h) in p.hops.iter().enumerate() {
            let last = i + 1 == p.hops.len();
            let how = match (h.probability, h.weight) {
                (Some(pr), _) => format!("probability {pr:.11}"),
                (None, Some(wt)) => format!("weight {wt}"),
                (None, None) if p.mode == "iptables" => "otherwise".into(),
                _ => String::new(),
            };
            let pod = match (&h.pod, &h.pod_node) {
                (Some(pod), Some(node)) => format!("pod {pod} on {node}"),
                (Some(pod), None) => format!("pod {pod}"),
                (None, Some(node)) => format!("on {node}"),
                _ => String::new(),
            };
            let api = match h.in_api {
                Some(false) => format!(" {}", "not a ready endpoint in the API".red()),
                _ => String::new(),
            };
            writeln!(
                w,
                "    {} {:>5.1}%  {:<25} {} → {}  {pod}{api}",
                if last { "└" } else { "├" },
                h.share * 100.0,
                how,
                h.chain.as_deref().unwrap_or(""),
                h.endpoint,
            )?;
        }
        for c in &p.commands {
            writeln!(w, "    $ {c}")?;
        }
    }
    for n in &t.notes {
        writeln!(w, "  {} {n}", "note".dimmed())?;
    }
    Ok(())
}
