//! Every finding id, read from docs/findings.md (compiled in): the tables there are the one
//! list, so `netcheck checks`, SARIF's rules and the --only/--skip validation cannot drift
//! from the documentation. A test checks that every id the checks emit is in it.

use crate::report::Severity;
use serde::Serialize;

const DOC: &str = include_str!("../../docs/findings.md");

#[derive(Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    pub id: String,
    /// The most severe level the finding takes (its table says when it is lower).
    pub severity: Severity,
    /// The table's severity column, e.g. `warning (80% or more used) / error (full)`.
    pub severity_text: String,
    /// The table's "when" column.
    pub when: String,
    /// report, cidrs, proxy-mode, daemonsets, services, rules, capacity or fleet.
    pub command: &'static str,
    /// What to grant if the reads behind it are refused (docs/permissions.md has the detail).
    pub needs: &'static str,
    /// The id's own section in docs/findings.md, when it has one.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub help: String,
}

fn command_of(id: &str, section: &str) -> &'static str {
    let any = |ps: &[&str]| ps.iter().any(|p| id.starts_with(p));
    if section.starts_with("Services") {
        "services"
    } else if section.starts_with("Fleet") {
        "fleet"
    } else if any(&["rules-"]) {
        "rules"
    } else if any(&[
        "capacity-",
        "ip-allocation",
        "pod-ip-duplicate",
        "node-network-unavailable",
        "version-skew",
    ]) {
        "capacity"
    } else if any(&[
        "proxy-",
        "kube-proxy-",
        "ipvs-",
        "userspace-",
        "no-service-proxy",
    ]) {
        "proxy-mode"
    } else if any(&["agent-missing", "rollout-"]) {
        "daemonsets"
    } else {
        "cidrs"
    }
}

fn needs_of(command: &str) -> &'static str {
    match command {
        "services" => "list services, endpointslices, pods (all namespaces); get configmaps kubelet-config, coredns in kube-system",
        "proxy-mode" => "list pods, daemonsets (all namespaces); get configmaps in kube-system; get pods/log in kube-system",
        "daemonsets" => "list daemonsets, pods (all namespaces); list nodes",
        "rules" => "the rule dumps (--rules, --on-node, or create pods/exec with --exec-rules); list services, endpointslices, pods",
        "capacity" => "list nodes, pods, services, events (all namespaces); list ipaddresses.networking.k8s.io, blockaffinities.crd.projectcalico.org",
        "fleet" => "each cluster's own reads",
        _ => "list nodes, pods, services, servicecidrs; get configmaps in kube-system; the CNI's configuration",
    }
}

fn level(text: &str) -> Severity {
    let t = text.to_lowercase();
    if t.contains("error") {
        Severity::Error
    } else if t.contains("warning") {
        Severity::Warning
    } else {
        Severity::Info
    }
}

/// The text under `### id` (or a heading naming it among others), up to the next heading.
fn help(id: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in DOC.lines() {
        if let Some(h) = line.strip_prefix("### ") {
            inside = h.split([',', ' ']).any(|w| w.trim() == id);
            continue;
        }
        if line.starts_with("## ") {
            inside = false;
        }
        if inside {
            out.push_str(line);
            out.push('\n');
        }
    }
    out.trim().to_string()
}

/// The catalogue, read from the document once per process.
pub fn rules() -> &'static [Rule] {
    static RULES: std::sync::OnceLock<Vec<Rule>> = std::sync::OnceLock::new();
    RULES.get_or_init(read)
}

fn read() -> Vec<Rule> {
    let mut out: Vec<Rule> = vec![];
    let mut section = "";
    for line in DOC.lines() {
        if let Some(h) = line.strip_prefix("## ") {
            section = h;
            continue;
        }
        let cells: Vec<&str> = line.split(" | ").collect();
        let [first, sev, when] = cells[..] else {
            continue;
        };
        let Some(ids) = first.strip_prefix("| ") else {
            continue;
        };
        let when = when.trim_end_matches(" |").trim_end_matches('|').trim();
        if ids == "id" || ids.starts_with("---") {
            continue;
        }
        for id in ids.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            if out.iter().any(|r| r.id == id) {
                continue;
            }
            let command = command_of(id, section);
            out.push(Rule {
                id: id.to_string(),
                severity: level(sev),
                severity_text: sev.trim().to_string(),
                when: when.to_string(),
                command,
                needs: needs_of(command),
                help: help(id),
            });
        }
    }
    out
}

/// Refuses ids that are not finding ids, naming the known ones.
pub fn validate(ids: &[String], flag: &str) -> Result<(), String> {
    let known = rules();
    let unknown: Vec<&str> = ids
        .iter()
        .map(String::as_str)
        .filter(|i| !known.iter().any(|r| r.id == *i))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = known.iter().map(|r| r.id.as_str()).collect();
    Err(format!(
        "{flag}: unknown finding id(s) {}; known ids (netcheck checks lists them with what each means): {}",
        unknown.join(", "),
        names.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tables_are_read() {
        let r = rules();
        assert!(r.len() > 60, "{}", r.len());
        let get = |id: &str| {
            r.iter()
                .find(|x| x.id == id)
                .unwrap_or_else(|| panic!("{id}"))
        };
        assert_eq!(get("pod-service-overlap").command, "cidrs");
        assert_eq!(get("pod-service-overlap").severity, Severity::Error);
        assert_eq!(get("service-external-ips").command, "services");
        assert_eq!(get("capacity-node-slots").severity, Severity::Error);
        assert_eq!(get("version-skew-kube-proxy").command, "capacity");
        assert_eq!(get("fleet-shared-service-range").command, "fleet");
        assert!(get("loadbalancer-pending").help.contains("LoadBalancer"));
        assert!(validate(&["no-such-check".into()], "--only")
            .unwrap_err()
            .contains("pod-service-overlap"));
    }
}
