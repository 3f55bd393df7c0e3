//! From a cluster model to a report: discovery, then checks, then the summary.

use crate::checks::{self, Ctx};
use crate::discover::{self, Hints};
use crate::explain;
use crate::model::Cluster;
use crate::report::*;

pub fn analyze(c: &Cluster, hints: &Hints, command: Command, with_explain: bool) -> Report {
    let cidrs = discover::cidrs::discover(c, hints);
    let proxy = discover::proxy::discover(c);
    let deployments = discover::deploy::discover(c, &proxy, &cidrs.cni);
    let ctx = Ctx {
        cluster: c,
        cidrs: &cidrs,
        proxy: Some(&proxy),
        deployments: Some(&deployments),
        hints,
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
        explain::explain(c, &cidrs, &proxy, &deployments, command)
    } else {
        vec![]
    };
    let wants = |t: Topic| command.topics().contains(&t);
    Report {
        api_version: REPORT_API_VERSION.into(),
        kind: "Report".into(),
        command: command.name().into(),
        source: c.source.clone(),
        server_version: c.server_version.clone(),
        cidrs: wants(Topic::Cidrs).then_some(cidrs),
        proxy: wants(Topic::Proxy).then_some(proxy),
        deployments: wants(Topic::Deploy).then_some(deployments),
        findings,
        skipped: c.errors.clone(),
        summary,
        explain,
    }
}

/// Exit status for `--fail-on`: whether any finding is at or above the threshold.
pub fn fails(r: &Report, threshold: Option<Severity>) -> bool {
    threshold.is_some_and(|t| r.findings.iter().any(|f| f.severity >= t))
}
