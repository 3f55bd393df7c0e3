//! The run: settings -> collect -> analyse -> render, and the exit code.

use crate::analyze;
use crate::cli::{self, Cli};
use crate::collect::{self, Fatal};
use crate::model::{what, Cluster, CollectError};
use std::io::Write;

mod fleet;
mod mcp;
mod practice;
pub mod tools;

/// Usage text says `kubectl netcheck` when run as the kubectl plugin.
fn parse() -> Cli {
    use clap::FromArgMatches;
    let argv0 = std::env::args_os().next().unwrap_or_default();
    let plugin = std::path::Path::new(&argv0)
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("kubectl-"));
    let cmd = tools::command();
    let cmd = if plugin {
        cmd.name("kubectl-netcheck").bin_name("kubectl netcheck")
    } else {
        cmd
    };
    let m = cmd.get_matches();
    Cli::from_arg_matches(&m).unwrap_or_else(|e| e.exit())
}

pub fn main() -> i32 {
    few_arenas();
    let args = parse();
    if let Some(cli::Cmd::Tools(t)) = &args.command {
        return tools::run(t);
    }
    if let Some(cli::Cmd::Fleet(a)) = &args.command {
        let a = a.clone();
        return fleet::main(args.settings(), a);
    }
    if args.global.kubeconfig.len() > 1 {
        return fail(&format!(
            "--kubeconfig given {} times: only `netcheck fleet` reads several kubeconfig files (or set KUBECONFIG=a:b to merge them)",
            args.global.kubeconfig.len()
        ));
    }
    if let Some(cli::Cmd::Mcp) = &args.command {
        return mcp::main();
    }
    if let Some(cli::Cmd::Practice(a)) = &args.command {
        let a = a.clone();
        return practice::main(args.settings(), a);
    }
    let checks = matches!(args.command, Some(cli::Cmd::Checks(_)));
    let diff = match &args.command {
        Some(cli::Cmd::Diff(a)) => Some(a.clone()),
        _ => None,
    };
    let mut s = args.settings();
    if let Err(e) = s.filter.validate() {
        return fail(&e);
    }
    if let Err(e) = resolve_reach(&mut s) {
        return fail(&e);
    }
    colored::control::set_override(s.color);
    if checks {
        return list_checks(&s);
    }
    if let Some(a) = diff {
        return diff_main(&s, &a);
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the runtime: {e}")),
    };
    if let Some(every) = s.watch {
        return match s.command {
            Some(c)
                if !matches!(
                    c,
                    crate::report::Command::Rules | crate::report::Command::Trace
                ) =>
            {
                watch(&s, c, every, &rt)
            }
            _ => fail(
                "--watch goes with report, cidrs, proxy-mode, daemonsets, services or capacity",
            ),
        };
    }
    // Listening before any request is made: a Ctrl-C that comes while the first one is in
    // flight must not meet the default disposition (a kill, not exit 130).
    let mut sigint = match listen_sigint(&rt) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let res = rt.block_on(async {
        tokio::select! {
            r = collect(&s) => Some(r),
            _ = sigint.recv() => None,
        }
    });
    // Pending requests must not hold the exit back, and the runtime's threads are not stopped
    // either: each reader thread's caches (a 5,000-node cluster's names and label sets) would
    // be freed as it ends, beside the analysis (perf: 2% of a report's CPU). The process ends
    // with them parked.
    std::mem::forget(rt);
    let cluster = match res {
        None => {
            eprintln!("netcheck: interrupted");
            return cli::EXIT_INTERRUPTED;
        }
        Some(Err(e)) => return fail(&e.0),
        Some(Ok(c)) => c,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let Some(command) = s.command else {
        let path = s.snapshot_out.expect("snapshot command has an output");
        let res = if path.as_os_str() == "-" {
            collect::snapshot::save(&cluster, &mut out).and_then(|_| out.flush())
        } else {
            std::fs::File::create(&path).and_then(|f| {
                let mut w = std::io::BufWriter::new(f);
                collect::snapshot::save(&cluster, &mut w)?;
                w.flush()
            })
        };
        let counts = (
            cluster.nodes.len(),
            cluster.pod_count(),
            cluster.errors.len(),
        );
        // As for a report below: the process ends, and freeing the model would take a while.
        std::mem::forget(cluster);
        return match res {
            Ok(()) => {
                eprintln!(
                    "netcheck: snapshot written to {} ({} nodes, {} pods, {} skipped reads)",
                    path.display(),
                    counts.0,
                    counts.1,
                    counts.2
                );
                cli::EXIT_OK
            }
            Err(e) => fail(&format!("cannot write snapshot {}: {e}", path.display())),
        };
    };
    let report = match report_of(&cluster, &s, command) {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    // A big cluster's model is a few million small allocations, and the process is about to
    // end: freeing them one by one would take a tenth of the run.
    std::mem::forget(cluster);

    if let Err(e) = crate::render::render_listing(&report, s.format, s.fail_on, s.listing, &mut out)
        .and_then(|_| out.flush())
    {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return cli::EXIT_OK;
        }
        return fail(&format!("cannot write output: {e}"));
    }
    let code = match &report.reach {
        Some(r) if r.verdict == crate::report::Verdict::Allowed => cli::EXIT_OK,
        Some(_) => cli::EXIT_FINDINGS,
        None if analyze::fails(&report, s.fail_on) => cli::EXIT_FINDINGS,
        None => cli::EXIT_OK,
    };
    // As the model above: 10,000 Service rows' strings took 9 ms to free (perf, issue #20).
    std::mem::forget(report);
    code
}

/// `--watch`: a round every `every`, printing the first report whole and then only what
/// changed (the `diff` engine), each under a timestamp. A failed round is reported on stderr
/// and the watch goes on. Ctrl-C ends it, with exit 0.
fn watch(
    s: &cli::Settings,
    command: crate::report::Command,
    every: std::time::Duration,
    rt: &tokio::runtime::Runtime,
) -> i32 {
    use crate::render::Format;
    // One listener for the whole watch: a Ctrl-C that lands while a round is being printed
    // is kept for the next wait, not lost.
    let mut sigint = match listen_sigint(rt) {
        Ok(s) => s,
        Err(code) => return code,
    };
    // A live cluster is watched, so that a round reads only what changed.
    let mut session = match (&s.snapshot_in, &s.dump_in) {
        (None, None) => match rt.block_on(collect::live::Session::connect(s.live.clone(), true)) {
            Ok(w) => Some(w),
            Err(e) => return fail(&e.0),
        },
        _ => None,
    };
    let mut out = std::io::stdout().lock();
    let mut prev: Option<crate::report::Report> = None;
    let now = || {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        crate::collect::proto::rfc3339(secs)
    };
    loop {
        let got = rt.block_on(async {
            tokio::select! {
                r = collect_in(s, session.as_mut()) => Some(r),
                _ = sigint.recv() => None,
            }
        });
        let Some(got) = got else { break };
        let stamp = now();
        if let Some(w) = &mut session {
            for (read, why) in w.lost() {
                eprintln!("netcheck: {stamp}: read {read} again: its watch was lost: {why}");
            }
        }
        let report = got.map_err(|e| e.0).and_then(|c| {
            let r = report_of(&c, s, command);
            if let Some(w) = &mut session {
                w.keep(c);
            }
            r
        });
        let written = match (report, &prev) {
            (Err(e), _) => {
                eprintln!("netcheck: {stamp}: this round failed: {e}");
                Ok(())
            }
            (Ok(r), None) => {
                let res = match s.format {
                    Format::Json => serde_json::to_writer(&mut out, &r)
                        .map_err(std::io::Error::other)
                        .and_then(|_| writeln!(out)),
                    f => writeln!(out, "== {stamp}")
                        .and_then(|_| crate::render::render(&r, f, s.fail_on, &mut out)),
                };
                prev = Some(r);
                res
            }
            (Ok(r), Some(p)) => {
                let d = crate::report::diff(("previous round", p), (&stamp, &r));
                let quiet = d.changes.is_empty()
                    && d.new_findings.is_empty()
                    && d.resolved_findings.is_empty();
                let res = match s.format {
                    Format::Json => serde_json::to_writer(&mut out, &d)
                        .map_err(std::io::Error::other)
                        .and_then(|_| writeln!(out)),
                    _ if quiet => writeln!(out, "== {stamp}: no change"),
                    f => writeln!(out, "== {stamp}")
                        .and_then(|_| crate::render::diff_view(&d, f, &mut out)),
                };
                prev = Some(r);
                res
            }
        };
        if written.and_then(|_| out.flush()).is_err() {
            break;
        }
        let stop = rt.block_on(async {
            tokio::select! {
                _ = tokio::time::sleep(every) => false,
                _ = sigint.recv() => true,
            }
        });
        if stop {
            break;
        }
    }
    eprintln!("netcheck: watch stopped");
    cli::EXIT_OK
}

/// `can-reach`'s FROM, TO and --port parsed (before anything is read, so bad input costs no
/// request).
pub(crate) fn resolve_reach(s: &mut cli::Settings) -> Result<(), String> {
    if let Some(a) = &s.reach_args {
        s.scope.reach = Some(crate::discover::netpol::parse_query(
            &a.from,
            &a.to,
            a.port.as_deref(),
        )?);
    }
    Ok(())
}

/// The analysed and filtered report of a collected cluster; an error for a Service or trace
/// target that is not there.
pub(crate) fn report_of(
    cluster: &Cluster,
    s: &cli::Settings,
    command: crate::report::Command,
) -> Result<crate::report::Report, String> {
    // trace --host: the route chosen names the Service (and port) followed.
    let mut entry = None;
    let mut scope = s.scope.clone();
    match (&s.scope.host, command) {
        (Some(host), crate::report::Command::Trace) => {
            let path = s.scope.path.as_deref().unwrap_or("/");
            let e = crate::discover::routes::resolve(cluster, host, path)?;
            let b = &e.matches[0].backend;
            let Some((ns, name)) = b
                .target
                .strip_prefix("service ")
                .and_then(|t| t.split_once('/'))
            else {
                return Err(format!(
                    "{} sends {host}{path} to {}, which netcheck does not follow (only Services)",
                    e.matches[0].route, b.target
                ));
            };
            scope.namespace = Some(ns.into());
            scope.service = Some(name.into());
            scope.port = scope.port.or(b.port.clone());
            crate::discover::rules::target(cluster, &scope).map_err(|err| {
                format!(
                    "{} sends {host}{path} to {}: {err}",
                    e.matches[0].route, b.target
                )
            })?;
            entry = Some(e);
        }
        (_, crate::report::Command::Trace) => {
            crate::discover::rules::target(cluster, &scope)?;
        }
        _ => {}
    }
    if let Some(q) = &s.scope.reach {
        crate::discover::netpol::check_query(cluster, q)?;
    }
    let mut report = analyze::analyze(cluster, &s.hints, command, s.explain, &scope);
    if let Some(t) = &mut report.trace {
        t.entry = entry;
    }
    s.filter.apply(&mut report);
    if let (Some(name), Some(svc)) = (&scope.service, &report.services) {
        if svc.services.is_empty() {
            let ns = scope.namespace.as_deref().unwrap_or("default");
            let read = cluster
                .error_for(crate::model::what::SERVICES)
                .map(|e| format!(" (Services could not be read: {})", e.reason))
                .unwrap_or_default();
            return Err(format!("service {ns}/{name} not found{read}; expected NAMESPACE/NAME or NAME with -n NAMESPACE"));
        }
    }
    Ok(report)
}

/// `netcheck diff`: each side loaded as `fleet --from` loads a file (a snapshot is analysed as
/// `report` would), filtered alike, then compared.
fn diff_main(s: &cli::Settings, a: &cli::DiffArgs) -> i32 {
    let d = match compare(s, &a.before, &a.after) {
        Ok(d) => d,
        Err(e) => return fail(&e),
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if let Err(e) = crate::render::diff_view(&d, s.format, &mut out).and_then(|_| out.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return fail(&format!("cannot write output: {e}"));
        }
    }
    let fails = s
        .fail_on
        .is_some_and(|t| d.new_findings.iter().any(|i| i.severity >= t));
    if fails {
        cli::EXIT_FINDINGS
    } else {
        cli::EXIT_OK
    }
}

pub(crate) fn compare(
    s: &cli::Settings,
    before: &std::path::Path,
    after: &std::path::Path,
) -> Result<crate::report::Diff, String> {
    use crate::collect::fleet::{load, Loaded};
    use crate::report::{Command, Scope};
    let side = |p: &std::path::Path| -> Result<crate::report::Report, String> {
        let mut r = match load(p) {
            Ok(Loaded::Report(r)) => *r,
            Ok(Loaded::Cluster(c)) => {
                analyze::analyze(&c, &s.hints, Command::Report, false, &Scope::default())
            }
            Err(e) => return Err(format!("{}: {}", p.display(), e.message)),
        };
        s.filter.apply(&mut r);
        Ok(r)
    };
    let (b, a) = (side(before)?, side(after)?);
    let name = |p: &std::path::Path| p.display().to_string();
    Ok(crate::report::diff((&name(before), &b), (&name(after), &a)))
}

/// `netcheck checks`: the finding ids, from docs/findings.md.
fn list_checks(s: &cli::Settings) -> i32 {
    use crate::render::Format;
    let rules = crate::checks::catalog::rules();
    let mut out = std::io::stdout().lock();
    let res = match s.format {
        Format::Json => serde_json::to_writer_pretty(&mut out, &rules)
            .map_err(std::io::Error::other)
            .and_then(|_| writeln!(out)),
        Format::Yaml => serde_saphyr::to_string(&rules)
            .map_err(std::io::Error::other)
            .and_then(|y| out.write_all(y.as_bytes())),
        _ => rules.iter().try_for_each(|r| {
            writeln!(
                out,
                "{:<34} {:<8} {:<11} {}\n{:<55}needs: {}",
                r.id,
                format!("{:?}", r.severity).to_lowercase(),
                r.command,
                r.when,
                "",
                r.needs
            )
        }),
    };
    match res {
        Ok(()) => cli::EXIT_OK,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => cli::EXIT_OK,
        Err(e) => fail(&format!("cannot write output: {e}")),
    }
}

/// glibc gives each thread that allocates an arena of its own, up to eight per core; the
/// runtime's decoding threads then keep freed memory that the next allocation on another
/// thread cannot reuse (docs/benchmarks.md). Two suffice. `MALLOC_ARENA_MAX` still decides
/// when set. Before any thread starts.
fn few_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets an allocator parameter; no thread has started yet.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

fn listen_sigint(rt: &tokio::runtime::Runtime) -> Result<tokio::signal::unix::Signal, i32> {
    let _in_runtime = rt.enter();
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .map_err(|e| fail(&format!("cannot listen for Ctrl-C: {e}")))
}

fn fail(msg: &str) -> i32 {
    eprintln!("netcheck: error: {msg}");
    cli::EXIT_ERROR
}

async fn collect(s: &cli::Settings) -> Result<Cluster, Fatal> {
    collect_in(s, None).await
}

/// A round of collection; `session` keeps a live cluster's reads between rounds (--watch).
async fn collect_in(
    s: &cli::Settings,
    session: Option<&mut collect::live::Session>,
) -> Result<Cluster, Fatal> {
    let live = async {
        match session {
            Some(w) => w.round().await,
            None => collect::live::collect(&s.live).await,
        }
    };
    let mut c = match (&s.snapshot_in, &s.dump_in) {
        (Some(p), _) => collect::snapshot::load(p)?,
        (None, Some(d)) => collect::dump::load(d, s.live.logs, s.live.log_bytes)?,
        (None, None) => match live.await {
            Ok(c) => c,
            // On a control-plane node the files still answer when the API does not.
            Err(e) if s.on_node.is_some() => {
                let mut c = Cluster::new_snapshot();
                c.source.mode = "on-node".into();
                for w in [what::NODES, what::PODS, what::SERVICES, what::DAEMONSETS] {
                    c.errors.push(CollectError {
                        what: w.into(),
                        reason: e.0.clone(),
                        needs: None,
                    });
                }
                c
            }
            Err(e) => return Err(e),
        },
    };
    c.rule_sets.extend(collect::rules::read_files(&s.rules)?);
    if s.exec_rules {
        if s.snapshot_in.is_some() {
            return Err(Fatal("--exec-rules reads a live cluster; it cannot be used with --snapshot (a snapshot keeps the rule dumps taken when it was made)".into()));
        }
        if s.dump_in.is_some() {
            return Err(Fatal(
                "--exec-rules reads a live cluster; it cannot be used with --dump".into(),
            ));
        }
        let (client, _) = collect::kubeconfig::client(
            s.live.kubeconfig.as_deref(),
            s.live.context.as_deref(),
            s.live.request_timeout,
        )
        .await?;
        let (sets, errors) = collect::exec::rules(client, &c).await;
        c.rule_sets.extend(sets);
        c.errors.extend(errors);
    }
    let wants_rules = matches!(
        s.command,
        None | Some(crate::report::Command::Rules | crate::report::Command::Trace)
    );
    if s.on_node.is_some() && wants_rules {
        let mut errors = Vec::new();
        c.rule_sets.extend(collect::rules::on_node(&mut errors));
        c.errors.extend(errors);
    }
    if let Some(dir) = &s.on_node {
        let mut errors = Vec::new();
        c.host = Some(collect::node::collect(dir, &mut errors));
        c.errors.extend(errors);
        for (path, e) in crate::discover::components::unreadable_manifests(&c) {
            c.errors.push(CollectError {
                what: format!("file {path}"),
                reason: e,
                needs: None,
            });
        }
    }
    Ok(c)
}
