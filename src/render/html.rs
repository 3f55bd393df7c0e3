//! `-o html`: one self-contained page (no network access when opened). An address map drawn
//! as SVG lays every range on one scale per panel (a panel holds ranges that overlap or nest;
//! distant ranges get panels of their own, so a /24 is not lost beside a /8), marks and names
//! each overlap, then lists the overlaps, findings, evidence and capacity.

use crate::cidr;
use crate::report::*;
use ipnet::IpNet;
use std::fmt::Write as _;
use std::io::{self, Write};

const DOCKER_BRIDGE: &str = "172.17.0.0/16";
/// Boxes drawn per lane at most; more podCIDRs are drawn as one box per bucket of the panel.
const MAX_BOXES: usize = 256;
const WIDTH: f64 = 960.0;
const LABEL: f64 = 170.0;
const LANE: f64 = 24.0;

/// One row of the map: what it is, and its ranges (each with a tooltip).
pub struct Lane {
    pub label: String,
    /// Lanes of one group (one cluster of a fleet) are not checked against each other.
    pub group: usize,
    /// CSS class: node, pod, podcidr, service, docker, also, or a cluster's index in a fleet.
    pub class: String,
    pub nets: Vec<(IpNet, String)>,
}

/// Two lanes' ranges that share addresses.
pub struct Overlap {
    pub a: String,
    pub b: String,
    pub range: IpNet,
    /// The finding that reports it, if one does.
    pub finding: Option<String>,
}

impl Overlap {
    pub fn label(&self) -> String {
        let by = self
            .finding
            .as_ref()
            .map(|f| format!(" [{f}]"))
            .unwrap_or_default();
        format!("{} ∩ {}: {}{by}", self.a, self.b, self.range)
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn start(n: &IpNet) -> u128 {
    match n.network() {
        std::net::IpAddr::V4(a) => u32::from(a) as u128,
        std::net::IpAddr::V6(a) => u128::from(a),
    }
}

fn end(n: &IpNet) -> u128 {
    match n.broadcast() {
        std::net::IpAddr::V4(a) => u32::from(a) as u128,
        std::net::IpAddr::V6(a) => u128::from(a),
    }
}

/// The lanes of one cluster's report.
pub fn lanes(r: &Report) -> Vec<Lane> {
    let mut out = vec![];
    let mut lane = |label: &str, class: &str, nets: Vec<(IpNet, String)>| {
        if !nets.is_empty() {
            out.push(Lane {
                label: label.into(),
                group: out.len(),
                class: class.into(),
                nets,
            });
        }
    };
    let fact = |f: &Fact, what: &str| -> Vec<(IpNet, String)> {
        f.cidrs
            .iter()
            .map(|n| {
                (
                    *n,
                    format!("{what} {n} ({:?}): {}", f.status, f.why).to_lowercase(),
                )
            })
            .collect()
    };
    if let Some(c) = &r.cidrs {
        lane(
            "node network",
            "node",
            fact(&c.node_network, "node network"),
        );
        lane("pod range", "pod", fact(&c.pod_cidr, "pod range"));
        let pods: Vec<IpNet> = c
            .nodes
            .iter()
            .flat_map(|n| n.pod_cidrs.iter().filter_map(|p| cidr::parse(p).ok()))
            .collect();
        let n = pods.len();
        let merged = IpNet::aggregate(&pods);
        let title = |m: &IpNet| {
            let inside = pods.iter().filter(|p| m.contains(*p)).count();
            format!("{m}: {inside} of {n} node podCIDR(s)")
        };
        lane(
            &format!("node podCIDRs ({n})"),
            "podcidr",
            merged.iter().map(|m| (*m, title(m))).collect(),
        );
        lane(
            "service range",
            "service",
            fact(&c.service_cidr, "service range"),
        );
    }
    let docker: IpNet = DOCKER_BRIDGE.parse().expect("constant");
    lane(
        "docker bridge",
        "docker",
        vec![(docker, format!("Docker's default bridge {docker}"))],
    );
    lane(
        "--also-check",
        "also",
        r.also_check
            .iter()
            .map(|n| (*n, format!("--also-check {n}")))
            .collect(),
    );
    out
}

/// Overlaps between lanes, except a lane's ranges inside the lane they are carved from.
pub fn overlaps(lanes: &[Lane], findings: &[Finding], carved: &[(&str, &str)]) -> Vec<Overlap> {
    let mut out: Vec<Overlap> = vec![];
    for (i, a) in lanes.iter().enumerate() {
        for b in &lanes[i + 1..] {
            if a.group == b.group || carved.contains(&(a.class.as_str(), b.class.as_str())) {
                continue;
            }
            for (x, _) in &a.nets {
                for (y, _) in &b.nets {
                    if !cidr::overlap(x, y) {
                        continue;
                    }
                    let range = if x.prefix_len() >= y.prefix_len() {
                        *x
                    } else {
                        *y
                    };
                    let (xs, ys) = (x.to_string(), y.to_string());
                    let finding = findings
                        .iter()
                        .find(|f| {
                            f.id.ends_with("overlap")
                                && (f.ranges.iter().any(|r| r.contains(&xs))
                                    && f.ranges.iter().any(|r| r.contains(&ys))
                                    || f.message.contains(&xs) && f.message.contains(&ys))
                        })
                        .map(|f| f.id.clone());
                    out.push(Overlap {
                        a: a.label.clone(),
                        b: b.label.clone(),
                        range,
                        finding,
                    });
                }
            }
        }
    }
    out
}

/// Ranges that overlap or nest share a panel; each panel has its own linear scale.
fn panels(lanes: &[Lane]) -> Vec<(u128, u128, bool)> {
    let mut spans: Vec<(u128, u128, bool)> = lanes
        .iter()
        .flat_map(|l| l.nets.iter())
        .map(|(n, _)| (start(n), end(n), matches!(n, IpNet::V6(_))))
        .collect();
    spans.sort();
    let mut out: Vec<(u128, u128, bool)> = vec![];
    for s in spans {
        match out.last_mut() {
            Some(p) if p.2 == s.2 && s.0 <= p.1 => p.1 = p.1.max(s.1),
            _ => out.push(s),
        }
    }
    out
}

fn addr(v: u128, v6: bool) -> String {
    if v6 {
        std::net::Ipv6Addr::from(v).to_string()
    } else {
        std::net::Ipv4Addr::from(v as u32).to_string()
    }
}

/// The SVG map: one panel per group of overlapping ranges, a row per lane that has ranges
/// there, overlaps hatched across the rows they join.
pub fn map(lanes: &[Lane], overlaps: &[Overlap]) -> String {
    let mut svg = String::new();
    let mut y = 10.0;
    let mut body = String::new();
    for (pi, (lo, hi, v6)) in panels(lanes).into_iter().enumerate() {
        let span = (hi - lo + 1) as f64;
        let x = |v: u128| LABEL + (v - lo) as f64 / span * (WIDTH - LABEL - 10.0);
        let rows: Vec<&Lane> = lanes
            .iter()
            .filter(|l| l.nets.iter().any(|(n, _)| start(n) >= lo && end(n) <= hi))
            .collect();
        let top = y;
        let _ = writeln!(
            body,
            r#"<g class="panel" data-panel="{pi}"><text class="axis" x="{LABEL}" y="{}">{}</text><text class="axis" x="{}" y="{}" text-anchor="end">{}</text>"#,
            y + 10.0,
            addr(lo, v6),
            WIDTH - 10.0,
            y + 10.0,
            addr(hi, v6)
        );
        y += 16.0;
        for l in &rows {
            let _ = writeln!(
                body,
                r#"<text class="lane-label" x="4" y="{}">{}</text>"#,
                y + 16.0,
                esc(&l.label)
            );
            let nets: Vec<&(IpNet, String)> = l
                .nets
                .iter()
                .filter(|(n, _)| start(n) >= lo && end(n) <= hi)
                .collect();
            if nets.len() > MAX_BOXES {
                // One box per bucket of the panel that holds any of them.
                let mut buckets = vec![0usize; MAX_BOXES];
                for (n, _) in &nets {
                    let b = ((start(n) - lo) as f64 / span * MAX_BOXES as f64) as usize;
                    buckets[b.min(MAX_BOXES - 1)] += 1;
                }
                let w = (WIDTH - LABEL - 10.0) / MAX_BOXES as f64;
                for (b, count) in buckets.iter().enumerate().filter(|(_, c)| **c > 0) {
                    let _ = writeln!(
                        body,
                        r#"<rect class="range {}" x="{:.1}" y="{y}" width="{:.1}" height="20"><title>{count} {} ranges here</title></rect>"#,
                        l.class,
                        LABEL + b as f64 * w,
                        w.max(2.0),
                        esc(&l.label)
                    );
                }
            } else {
                // Where the lane's last label ends: labels never overprint each other.
                let mut free_from = 0.0;
                for (n, title) in nets {
                    let (x0, x1) = (x(start(n)), x(end(n) + 1));
                    let w = (x1 - x0).max(2.0);
                    let _ = write!(
                        body,
                        r#"<rect class="range {}" data-range="{n}" x="{x0:.1}" y="{y}" width="{w:.1}" height="20"><title>{}</title></rect>"#,
                        l.class,
                        esc(title)
                    );
                    // Inside the box when it fits, else just after it (a /16 in a /8).
                    let text_w = 7.0 * n.to_string().len() as f64;
                    let lx = if w > text_w + 6.0 {
                        x0 + 3.0
                    } else {
                        x0 + w + 3.0
                    };
                    if lx + text_w < WIDTH && lx >= free_from {
                        free_from = lx + text_w + 6.0;
                        let _ = write!(
                            body,
                            r#"<text class="range-label" x="{lx:.1}" y="{}">{n}</text>"#,
                            y + 14.0
                        );
                    }
                    body.push('\n');
                }
            }
            y += LANE;
        }
        let rows_end = y;
        for (oi, o) in overlaps.iter().enumerate() {
            if start(&o.range) < lo || end(&o.range) > hi {
                continue;
            }
            let (x0, x1) = (x(start(&o.range)), x(end(&o.range) + 1));
            let _ = writeln!(
                body,
                r#"<rect class="overlap" id="overlap-{oi}" data-overlap="{}" x="{x0:.1}" y="{}" width="{:.1}" height="{}"><title>{}</title></rect>"#,
                o.range,
                top + 14.0,
                (x1 - x0).max(3.0),
                rows_end - top - 12.0,
                esc(&o.label())
            );
            // Named under the rows, so the picture explains itself.
            let _ = writeln!(
                body,
                r#"<text class="overlap-label" x="{:.1}" y="{}">⚠ {}</text>"#,
                x0.min(WIDTH - 420.0),
                y + 12.0,
                esc(&o.label())
            );
            y += 16.0;
        }
        body.push_str("</g>\n");
        y += 14.0;
    }
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" id="map" width="{WIDTH}" height="{y}" viewBox="0 0 {WIDTH} {y}" role="img" aria-label="address map">
<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="3" height="6" fill="#d33" fill-opacity="0.55"/></pattern></defs>
{body}</svg>"##
    );
    svg
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
.axis{font:10px monospace;fill:#666}.lane-label{font:12px sans-serif;fill:#333}
.range{stroke:#333;stroke-width:.5;fill-opacity:.75}.range-label{font:11px monospace;fill:#000;pointer-events:none}
.node{fill:#8fbcd4}.pod{fill:#9fd49f}.podcidr{fill:#c8e6a0}.service{fill:#f2c57c}.docker{fill:#ccc}.also{fill:#c9a7e8}
.c0{fill:#8fbcd4}.c1{fill:#9fd49f}.c2{fill:#f2c57c}.c3{fill:#c9a7e8}.c4{fill:#e8a7b8}.c5{fill:#a7e0e8}
.overlap{fill:url(#hatch);stroke:#d33;stroke-width:1.5}.overlap-label{font:12px sans-serif;fill:#b00}.overlap.lit{stroke-width:4}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
.error{color:#b00}.warning{color:#a60}.info{color:#246}code{font-size:12px}
#overlaps li{cursor:pointer}";

/// Clicking an overlap in the list outlines it on the map; `data-ready` says the script ran.
const SCRIPT: &str = "document.querySelectorAll('#overlaps li').forEach(function(li){
li.addEventListener('click',function(){var r=document.getElementById(li.dataset.target);
if(r){r.classList.toggle('lit');}});});
document.body.dataset.ready='1';";

fn page(title: &str, body: &str, w: &mut dyn Write) -> io::Result<()> {
    write!(
        w,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head>\n<body>\n{body}<script>{SCRIPT}</script>\n</body></html>\n",
        esc(title)
    )
}

fn overlap_list(ov: &[Overlap], out: &mut String) {
    out.push_str("<h2>Overlaps</h2>\n");
    if ov.is_empty() {
        out.push_str("<p id=\"overlaps\">No ranges overlap.</p>\n");
        return;
    }
    out.push_str("<ul id=\"overlaps\">\n");
    for (i, o) in ov.iter().enumerate() {
        let _ = writeln!(
            out,
            "<li data-target=\"overlap-{i}\">{}</li>",
            esc(&o.label())
        );
    }
    out.push_str("</ul>\n");
}

fn findings_table(fs: &[Finding], out: &mut String) {
    out.push_str("<h2>Findings</h2>\n");
    if fs.is_empty() {
        out.push_str("<p>No findings.</p>\n");
        return;
    }
    out.push_str("<table id=\"findings\"><tr><th>severity</th><th>id</th><th>what</th><th>evidence</th><th>hint</th></tr>\n");
    for f in fs {
        let sev = format!("{:?}", f.severity).to_lowercase();
        let mut what = esc(&f.message);
        for s in &f.subjects {
            let _ = write!(what, "<br>– {}", esc(s));
        }
        if let Some(n) = f.count.filter(|n| *n > f.subjects.len()) {
            let _ = write!(what, "<br>… {n} in all");
        }
        let ev: Vec<String> = f
            .evidence
            .iter()
            .map(|e| format!("<code>{}</code>", esc(e)))
            .collect();
        let _ = writeln!(
            out,
            "<tr class=\"{sev}\" data-finding=\"{}\"><td>{sev}</td><td>{}</td><td>{what}</td><td>{}</td><td>{}</td></tr>",
            esc(&f.id),
            esc(&f.id),
            ev.join("<br>"),
            esc(&f.hint)
        );
    }
    out.push_str("</table>\n");
}

pub fn report(r: &Report, w: &mut dyn Write) -> io::Result<()> {
    let lanes = lanes(r);
    let ov = overlaps(&lanes, &r.findings, &[("pod", "podcidr")]);
    let mut b = String::new();
    let from = r
        .source
        .file
        .clone()
        .or(r.source.context.clone())
        .or(r.source.server.clone())
        .unwrap_or_default();
    let _ = writeln!(
        b,
        "<h1>netcheck {} — {}</h1>\n<p>{} {}{}</p>",
        esc(&r.command),
        esc(&from),
        esc(&r.source.mode),
        esc(&from),
        r.server_version
            .as_ref()
            .map(|v| format!(", Kubernetes {}", esc(v)))
            .unwrap_or_default()
    );
    if let Some(c) = &r.cidrs {
        b.push_str("<h2>Address map</h2>\n");
        b.push_str(&map(&lanes, &ov));
        overlap_list(&ov, &mut b);
        b.push_str("<h2>Ranges and their evidence</h2>\n<table id=\"ranges\"><tr><th>answer</th><th>status</th><th>ranges</th><th>why</th></tr>\n");
        let _ = writeln!(
            b,
            "<tr><td>CNI</td><td>-</td><td>{} (ipam {})</td><td>{}</td></tr>",
            esc(&c.cni.name),
            esc(&c.cni.ipam),
            esc(&c.cni.evidence)
        );
        for (name, f) in c.facts() {
            let _ = writeln!(
                b,
                "<tr><td>{name}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                format!("{:?}", f.status).to_lowercase(),
                esc(&cidr::join(&f.cidrs)),
                esc(&f.why)
            );
        }
        b.push_str("</table>\n");
    }
    if let Some(cap) = &r.capacity {
        b.push_str("<h2>Capacity</h2>\n<ul id=\"capacity\">\n");
        for u in &cap.ranges {
            let _ = writeln!(b, "<li>{}</li>", esc(&crate::checks::capacity_line(u)));
        }
        for x in &cap.unknown {
            let _ = writeln!(
                b,
                "<li>{}: unknown, because {}</li>",
                esc(&x.what),
                esc(&x.why)
            );
        }
        b.push_str("</ul>\n");
    }
    findings_table(&r.findings, &mut b);
    if !r.skipped.is_empty() {
        b.push_str("<h2>Skipped reads</h2>\n<ul>\n");
        for s in &r.skipped {
            let _ = writeln!(b, "<li>{}: {}</li>", esc(&s.what), esc(&s.reason));
        }
        b.push_str("</ul>\n");
    }
    page(&format!("netcheck {} {from}", r.command), &b, w)
}

/// The fleet's address map: each cluster's node network, pod and service ranges, and where
/// they overlap between clusters.
pub fn fleet(f: &Fleet, w: &mut dyn Write) -> io::Result<()> {
    let mut lanes = vec![];
    for (i, c) in f.clusters.iter().enumerate() {
        let Some(a) = c.report.as_ref().and_then(|r| r.cidrs.as_ref()) else {
            continue;
        };
        for (what, fact) in a.facts() {
            let nets: Vec<(IpNet, String)> = fact
                .cidrs
                .iter()
                .map(|n| (*n, format!("{} {what} {n}", c.name)))
                .collect();
            if !nets.is_empty() {
                lanes.push(Lane {
                    label: format!("{} {what}", c.name),
                    group: i,
                    class: format!("c{}", i % 6),
                    nets,
                });
            }
        }
    }
    // A cluster's own ranges overlapping each other are its own report's business.
    let ov = overlaps(&lanes, &f.findings, &[]);
    let mut b = format!(
        "<h1>netcheck fleet — {} cluster(s)</h1>\n<h2>Address map</h2>\n",
        f.clusters.len()
    );
    b.push_str(&map(&lanes, &ov));
    overlap_list(&ov, &mut b);
    findings_table(&f.findings, &mut b);
    page("netcheck fleet", &b, w)
}
