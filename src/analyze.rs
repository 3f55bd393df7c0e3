//! From a cluster model to a report: discovery, then checks, then the summary.

use crate::checks::{self, Ctx};
use crate::discover::{self, Hints};
use crate::explain;
use crate::model::Cluster;
use crate::report::*;
use std::sync::Arc;

pub fn analyze(
    c: &Cluster,
    hints: &Hints,
    command: Command,
    with_explain: bool,
    scope: &Scope,
) -> Report {
    let wants = |t: Topic| command.topics().contains(&t);
    // Two lanes for a big cluster's two cores: the Services analysis (the infra pods reduced,
    // the pod index, then a row per Service, once the ranges are known) beside the rest of
    // discovery. Each step is as before; only independent steps run side by side.
    let (ranges, ranges_known) = std::sync::mpsc::channel();
    let (cidrs, proxy, deployments, services, rules, capacity, policies) =
        std::thread::scope(|s| {
            let services = wants(Topic::Services).then(|| {
                s.spawn(move || {
                    let infra = discover::services::reduced_infra(c);
                    let pods = discover::services::Pods::new(c, &infra);
                    // Not sent only when the other lane panicked, which the scope passes on.
                    let cidrs: Arc<CidrAnswer> = ranges_known.recv().ok()?;
                    let problems_only = command == Command::Report;
                    let mut a =
                        discover::services::discover(c, &cidrs, &pods, scope, problems_only);
                    discover::routes::join(c, &mut a, scope);
                    Some(a)
                })
            });
            let cidrs = Arc::new(discover::cidrs::discover(c, hints));
            // Refused when there is no Services lane, or it ended in a panic (its join passes
            // that on).
            let _ = ranges.send(cidrs.clone());
            let proxy = discover::proxy::discover(c);
            let deployments = discover::deploy::discover(c, &proxy, &cidrs.cni);
            let rules = wants(Topic::Rules).then(|| discover::rules::discover(c, &cidrs, &proxy));
            let capacity = wants(Topic::Capacity).then(|| discover::capacity::discover(c, &cidrs));
            let policies =
                wants(Topic::Policies).then(|| discover::netpol::policies(c, &cidrs.cni));
            let services =
                services.and_then(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
            (
                cidrs,
                proxy,
                deployments,
                services,
                rules,
                capacity,
                policies,
            )
        });
    // The services lane has ended, and its copy with it.
    let cidrs = Arc::unwrap_or_clone(cidrs);
    // The app checks the question first (a bad one exits 2), so a failure here is not asked.
    let reach = scope
        .reach
        .as_ref()
        .filter(|_| wants(Topic::Reach))
        .and_then(|q| discover::netpol::can_reach(c, q, &cidrs.cni).ok());
    let mut trace = wants(Topic::Trace)
        .then(|| discover::rules::trace(c, &proxy, scope).ok())
        .flatten();
    if !with_explain {
        trace
            .iter_mut()
            .flat_map(|t| &mut t.paths)
            .for_each(|p| p.commands.clear());
    }

    let ctx = Ctx {
        cluster: c,
        cidrs: &cidrs,
        proxy: Some(&proxy),
        deployments: Some(&deployments),
        services: services.as_ref(),
        rules: rules.as_ref(),
        capacity: capacity.as_ref(),
        policies: policies.as_ref(),
        hints,
        topics: command.topics(),
    };
    let findings = checks::run(&ctx, command.topics());
    let summary = Summary {
        errors: findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count(),
        warnings: findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .count(),
        infos: findings
            .iter()
            .filter(|f| f.severity == Severity::Info)
            .count(),
    };
    let explain = if with_explain {
        explain::explain(c, &cidrs, &proxy, &deployments, services.as_ref(), command)
    } else {
        vec![]
    };
    Report {
        api_version: REPORT_API_VERSION.into(),
        kind: "Report".into(),
        command: command.name().into(),
        source: c.source.clone(),
        server_version: c.server_version.clone(),
        cidrs: wants(Topic::Cidrs).then_some(cidrs),
        proxy: wants(Topic::Proxy).then_some(proxy),
        deployments: wants(Topic::Deploy).then_some(deployments),
        services,
        rules,
        trace,
        capacity,
        policies,
        reach,
        also_check: hints.also_check.clone(),
        findings,

        skipped: c.errors.clone(),
        summary,
        explain,
    }
}

/// What `--only`, `--skip` and `--skip-namespace` keep of the findings.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub only: Vec<String>,
    pub skip: Vec<String>,
    pub skip_namespaces: Vec<String>,
}

impl Filter {
    /// Drops what is filtered out: whole findings by id; subjects in a skipped namespace (a
    /// finding left with none of its subjects goes too). The summary is counted again.
    pub fn apply(&self, r: &mut Report) {
        self.keep(&mut r.findings);
        let n = |s: Severity| r.findings.iter().filter(|f| f.severity == s).count();
        r.summary = Summary {
            errors: n(Severity::Error),
            warnings: n(Severity::Warning),
            infos: n(Severity::Info),
        };
    }
    pub fn keep(&self, findings: &mut Vec<Finding>) {
        let in_skipped_ns = |s: &str| {
            self.skip_namespaces.iter().any(|ns| {
                s.split_whitespace()
                    .any(|w| w.starts_with(&format!("{ns}/")))
            })
        };
        findings.retain_mut(|f| {
            if (!self.only.is_empty() && !self.only.contains(&f.id)) || self.skip.contains(&f.id) {
                return false;
            }
            if self.skip_namespaces.is_empty() || f.subjects.is_empty() {
                return true;
            }
            let before = f.subjects.len();
            f.subjects.retain(|s| !in_skipped_ns(s));
            let dropped = before - f.subjects.len();
            f.count = f.count.map(|c| c.saturating_sub(dropped));
            !f.subjects.is_empty()
        });
    }
    pub fn validate(&self) -> Result<(), String> {
        crate::checks::catalog::validate(&self.only, "--only")?;
        crate::checks::catalog::validate(&self.skip, "--skip")
    }
}

/// Exit status for `--fail-on`: whether any finding is at or above the threshold.
pub fn fails(r: &Report, threshold: Option<Severity>) -> bool {
    threshold.is_some_and(|t| r.findings.iter().any(|f| f.severity >= t))
}
