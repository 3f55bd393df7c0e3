//! The `netcheck fleet` run: every cluster collected at once (`collect::fleet`), each analysed
//! as `netcheck report` analyses one as soon as it arrives (its model then freed), the findings
//! between them (`checks::fleet`), the output (`render::fleet`) and the exit code.

use crate::analyze;
use crate::checks;
use crate::cli::{self, FleetArgs, Settings};
use crate::collect::fleet::{self as cf, Context, Loaded, Target};
use crate::discover::Hints;
use crate::render;
use crate::report::*;
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::sync::Arc;
use tokio::sync::Semaphore;

fn fail(msg: &str) -> i32 {
    eprintln!("netcheck: error: {msg}");
    cli::EXIT_ERROR
}

/// Flags of a single run that mean nothing for a fleet.
fn refuse(s: &Settings) -> Option<&'static str> {
    if s.live.context.is_some() {
        Some("--context names one cluster; fleet takes --contexts NAMES or --all-contexts")
    } else if s.snapshot_in.is_some() {
        Some("--snapshot names one cluster; fleet takes saved clusters with --from FILE...")
    } else if s.on_node.is_some() {
        Some("--on-node reads this host, which is one cluster's node; run it per cluster")
    } else if s.dump_in.is_some() {
        Some("--dump reads one cluster's cluster-info dump; save it as a snapshot (netcheck snapshot --dump DIR -o FILE) and pass the file with --from")
    } else if s.exec_rules {
        Some("--exec-rules runs dump tools in one cluster's kube-proxy pods; run netcheck rules per cluster")
    } else if !s.rules.is_empty() {
        Some("--rules dumps belong to one cluster's nodes; run netcheck rules per cluster")
    } else if !s.hints.node_cidrs.is_empty() {
        Some("--node-cidr states one cluster's node network; run that cluster alone, or save its report with it and pass the file with --from")
    } else {
        None
    }
}

pub fn main(s: Settings, a: FleetArgs) -> i32 {
    colored::control::set_override(s.color);
    if let Some(m) = refuse(&s) {
        return fail(m);
    }
    if let Err(e) = s.filter.validate() {
        return fail(&e);
    }
    if matches!(s.format, render::Format::Sarif | render::Format::Junit) {
        return fail("fleet writes -o table, json, yaml or html (SARIF and JUnit describe one cluster: run report per cluster)");
    }
    // Each context's server, for the rows of clusters that cannot be reached.
    let mut servers: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut targets: Vec<Target> = Vec::new();
    // Several --kubeconfig files are read one by one (each context keeps its own file); one
    // or none, as kubectl reads them.
    let files: Vec<Option<&std::path::Path>> = match s.kubeconfigs.len() {
        0 => vec![None],
        _ => s.kubeconfigs.iter().map(|p| Some(p.as_path())).collect(),
    };
    let several = files.len() > 1;
    let mut found: Vec<(cf::Context, Option<String>)> = vec![];
    for f in &files {
        match cf::contexts(*f) {
            Ok(v) => found.extend(
                v.into_iter()
                    .map(|(n, server)| (cf::Context::new(&n, f.map(Into::into)), server)),
            ),
            // With --contexts, a context's row says why it could not be read.
            Err(e) if a.all_contexts => return fail(&e.0),
            Err(_) => {}
        }
    }
    for i in 0..found.len() {
        let twice = found
            .iter()
            .filter(|(c, _)| c.name == found[i].0.name)
            .count()
            > 1;
        if let (true, Some(p)) = (twice, &found[i].0.kubeconfig) {
            found[i].0.shown = format!("{} ({})", found[i].0.name, p.display());
        }
    }
    if a.all_contexts {
        if found.is_empty() {
            return fail("the kubeconfig has no contexts");
        }
        for (c, server) in found {
            servers.insert(c.shown.clone(), server);
            targets.push(Target::Context(c));
        }
    } else if !a.contexts.is_empty() {
        for name in a
            .contexts
            .iter()
            .map(|c| c.trim())
            .filter(|c| !c.is_empty())
        {
            // The first file that holds it, as kubectl merges files; else the first file,
            // whose error names the missing context.
            let (c, server) = found
                .iter()
                .find(|(c, _)| c.name == name)
                .map(|(c, s)| {
                    (
                        Context {
                            shown: name.into(),
                            ..c.clone()
                        },
                        s.clone(),
                    )
                })
                .unwrap_or_else(|| {
                    let file = several.then(|| files[0].map(Into::into)).flatten();
                    (cf::Context::new(name, file), None)
                });
            let t = Target::Context(c);
            if !targets.contains(&t) {
                servers.insert(t.name(), server);
                targets.push(t);
            }
        }
    }
    for f in &a.from {
        let t = Target::File(f.clone());
        if !targets.contains(&t) {
            targets.push(t);
        }
    }
    if targets.is_empty() {
        return fail(
            "which clusters? --contexts NAMES, --all-contexts, or --from FILE... (snapshots or report -o json files)",
        );
    }

    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the runtime: {e}")),
    };
    let n = targets.len();
    let mut slots: Vec<Option<FleetCluster>> = vec![None; n];
    let progress = std::io::stderr().is_terminal();
    let cores = std::thread::available_parallelism().map_or(2, |c| c.get());
    let explain = s.explain;
    let mut sigint = match super::listen_sigint(&rt) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let finished = rt.block_on(async {
        let mut rx = cf::spawn(targets.clone(), &s.live, usize::from(a.parallel));
        // Each cluster is analysed on a thread of the blocking pool as soon as it arrives, as
        // many at once as there are cores, while the others are still being read; its model
        // is freed there.
        let analysing = Arc::new(Semaphore::new(cores));
        let mut jobs = tokio::task::JoinSet::new();
        let run = async {
            let (mut done, mut open) = (0, true);
            loop {
                tokio::select! {
                    got = rx.recv(), if open => match got {
                        Some((i, out)) => {
                            let Ok(permit) = analysing.clone().acquire_owned().await else {
                                break;
                            };
                            let t = targets[i].clone();
                            let server = servers.get(&t.name()).cloned().flatten();
                            jobs.spawn_blocking(move || {
                                let c = entry(&t, server, out, explain);
                                drop(permit);
                                (i, c)
                            });
                        }
                        None => open = false,
                    },
                    Some(res) = jobs.join_next() => {
                        let (i, c) = match res {
                            Ok(x) => x,
                            Err(e) => std::panic::resume_unwind(e.into_panic()),
                        };
                        done += 1;
                        if progress {
                            let running = (n - done).min(usize::from(a.parallel));
                            eprint!(
                                "\r\x1b[Knetcheck fleet: {done}/{n} clusters answered, {running} being read (last: {})",
                                c.name
                            );
                        }
                        slots[i] = Some(c);
                    }
                    else => break,
                }
            }
        };
        tokio::select! {
            _ = run => true,
            _ = sigint.recv() => false,
        }
    });
    // Pending requests must not hold the exit back.
    rt.shutdown_background();
    if progress {
        eprint!("\r\x1b[K");
    }
    if !finished {
        eprintln!("netcheck: interrupted");
        return cli::EXIT_INTERRUPTED;
    }
    let mut clusters: Vec<FleetCluster> = slots
        .into_iter()
        .zip(&targets)
        .map(|(c, t)| {
            c.unwrap_or_else(|| FleetCluster {
                name: t.name(),
                origin: Origin::File,
                server: None,
                report: None,
                error: Some(ClusterError {
                    kind: ErrorKind::Config,
                    message: "its collection ended without an answer".into(),
                }),
            })
        })
        .collect();
    for r in clusters.iter_mut().filter_map(|c| c.report.as_mut()) {
        s.filter.apply(r);
    }
    let mut findings = checks::fleet::check(&clusters, &s.hints.also_check);
    s.filter.keep(&mut findings);
    let count = |sev: Severity| findings.iter().filter(|f| f.severity == sev).count();
    let analysed = clusters.iter().filter(|c| c.report.is_some()).count();
    let fleet = Fleet {
        api_version: REPORT_API_VERSION.into(),
        kind: FLEET_KIND.into(),
        summary: FleetSummary {
            clusters: clusters.len(),
            analysed,
            failed: clusters.len() - analysed,
            errors: count(Severity::Error),
            warnings: count(Severity::Warning),
            infos: count(Severity::Info),
        },
        clusters,
        findings,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if let Err(e) = render::fleet::render(&fleet, s.format, &mut out).and_then(|_| out.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return fail(&format!("cannot write output: {e}"));
        }
    }
    if analysed == 0 {
        return fail(&format!(
            "no cluster could be analysed ({} failed; each one's error is in the output)",
            fleet.summary.failed
        ));
    }
    let fails = s
        .fail_on
        .is_some_and(|t| fleet.findings.iter().any(|f| f.severity >= t));
    if fails {
        cli::EXIT_FINDINGS
    } else {
        cli::EXIT_OK
    }
}

/// One cluster's entry: its report (analysed now from a model, or as read from a report
/// file), or its error.
fn entry(
    t: &Target,
    kubeconfig_server: Option<String>,
    out: cf::Outcome,
    explain: bool,
) -> FleetCluster {
    let (origin, res) = match out {
        Ok(Loaded::Cluster(c)) => {
            let origin = match t {
                Target::Context(_) => Origin::Context,
                Target::File(_) => Origin::Snapshot,
            };
            // --also-check is applied once, across the fleet (checks::fleet), not per cluster.
            let r = analyze::analyze(
                &c,
                &Hints::default(),
                Command::Report,
                explain,
                &Scope::default(),
            );
            (origin, Ok(r))
        }
        Ok(Loaded::Report(r)) => (Origin::Report, Ok(*r)),
        Err(e) => (
            match t {
                Target::Context(_) => Origin::Context,
                Target::File(_) => Origin::File,
            },
            Err(e),
        ),
    };
    let server = res
        .as_ref()
        .ok()
        .and_then(|r| r.source.server.clone())
        .or(kubeconfig_server)
        .map(|s| s.trim_end_matches('/').to_string());
    let (report, error) = match res {
        Ok(r) => (Some(r), None),
        Err(e) => (None, Some(e)),
    };
    FleetCluster {
        name: t.name(),
        origin,
        server,
        report,
        error,
    }
}
