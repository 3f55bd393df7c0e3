//! Capacity: one line per range (in `cidrs` and `report` too), then the fullest nodes.

use super::{print_table, table};
use crate::report::{CapacityAnswer, Usage};
use colored::Colorize;
use std::io::{self, Write};

/// Nodes shown in the text view; JSON has them all.
const NODE_ROWS: usize = 20;

fn colored(u: &Usage) -> String {
    let l = crate::checks::capacity_line(u);
    match u.percent {
        _ if u.full() => l.red().to_string(),
        p if p >= crate::checks::WARN_PERCENT => l.yellow().to_string(),
        _ => l,
    }
}

pub fn lines(a: &CapacityAnswer, w: &mut dyn Write) -> io::Result<()> {
    writeln!(w, "{}", "Capacity".bold())?;
    for u in &a.ranges {
        writeln!(w, "  {}", colored(u))?;
        if let Some(b) = &u.static_band {
            writeln!(w, "    static band for manual ClusterIPs: {b}")?;
        }
        if !u.waiting.is_empty() {
            writeln!(w, "    waiting for one: {}", u.waiting.join(", "))?;
        }
    }
    for x in &a.unknown {
        writeln!(w, "  {}: unknown, because {}", x.what, x.why)?;
    }
    Ok(())
}

pub fn full(a: &CapacityAnswer, w: &mut dyn Write) -> io::Result<()> {
    lines(a, w)?;
    if a.nodes.is_empty() {
        return Ok(());
    }
    let mut nodes: Vec<_> = a.nodes.iter().collect();
    nodes.sort_by_key(|n| (std::cmp::Reverse(n.percent), std::cmp::Reverse(n.used)));
    writeln!(w)?;
    let mut t = table(&[
        "NODE",
        "POD CIDR",
        "POD IPS",
        "USABLE",
        "USED %",
        "MAX PODS",
        "IP FAILURES",
    ]);
    for n in nodes.iter().take(NODE_ROWS) {
        let dash = |v: Option<String>| v.unwrap_or_else(|| "-".into());
        t.add_row(vec![
            n.node.clone(),
            dash((!n.pod_cidrs.is_empty()).then(|| n.pod_cidrs.join(","))),
            n.used.to_string(),
            dash(n.usable.map(|u| u.to_string())),
            dash(n.percent.map(|p| format!("{p}%"))),
            dash(n.max_pods.map(|m| m.to_string())),
            n.failures.len().to_string(),
        ]);
    }
    print_table(&t, w)?;
    if nodes.len() > NODE_ROWS {
        writeln!(
            w,
            "  ... {} more node(s) (-o json lists all)",
            nodes.len() - NODE_ROWS
        )?;
    }
    Ok(())
}
