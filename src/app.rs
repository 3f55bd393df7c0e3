//! The run: settings -> collect -> analyse -> render, and the exit code.

use crate::analyze;
use crate::cli::{self, Cli};
use crate::collect::{self, Fatal};
use crate::model::{what, Cluster, CollectError};
use clap::Parser;
use std::io::Write;

mod fleet;
mod practice;

/// Usage text says `kubectl netcheck` when run as the kubectl plugin.
fn parse() -> Cli {
    use clap::{CommandFactory, FromArgMatches};
    let argv0 = std::env::args_os().next().unwrap_or_default();
    let plugin = std::path::Path::new(&argv0)
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("kubectl-"));
    if !plugin {
        return Cli::parse();
    }
    let cmd = Cli::command()
        .name("kubectl-netcheck")
        .bin_name("kubectl netcheck");
    let m = cmd.get_matches();
    Cli::from_arg_matches(&m).unwrap_or_else(|e| e.exit())
}

pub fn main() -> i32 {
    let args = parse();
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
    if let Some(cli::Cmd::Practice(a)) = &args.command {
        let a = a.clone();
        return practice::main(args.settings(), a);
    }
    let mut s = args.settings();
    if let Some(a) = &s.reach_args {
        match crate::discover::netpol::parse_query(&a.from, &a.to, a.port.as_deref()) {
            Ok(q) => s.scope.reach = Some(q),
            Err(e) => return fail(&e),
        }
    }
    colored::control::set_override(s.color);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the runtime: {e}")),
    };
    let res = rt.block_on(async {
        tokio::select! {
            r = collect(&s) => Some(r),
            _ = tokio::signal::ctrl_c() => None,
        }
    });
    // Pending requests must not hold the exit back.
    rt.shutdown_background();
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
        return match res {
            Ok(()) => {
                eprintln!(
                    "netcheck: snapshot written to {} ({} nodes, {} pods, {} skipped reads)",
                    path.display(),
                    cluster.nodes.len(),
                    cluster.pod_count(),
                    cluster.errors.len()
                );
                cli::EXIT_OK
            }
            Err(e) => fail(&format!("cannot write snapshot {}: {e}", path.display())),
        };
    };
    if command == crate::report::Command::Trace {
        if let Err(e) = crate::discover::rules::target(&cluster, &s.scope) {
            return fail(&e);
        }
    }
    if let Some(q) = &s.scope.reach {
        if let Err(e) = crate::discover::netpol::check_query(&cluster, q) {
            return fail(&e);
        }
    }
    let report = analyze::analyze(&cluster, &s.hints, command, s.explain, &s.scope);
    if let (Some(name), Some(svc)) = (&s.scope.service, &report.services) {
        if svc.services.is_empty() {
            let ns = s.scope.namespace.as_deref().unwrap_or("default");
            let read = cluster
                .error_for(crate::model::what::SERVICES)
                .map(|e| format!(" (Services could not be read: {})", e.reason))
                .unwrap_or_default();
            return fail(&format!("service {ns}/{name} not found{read}; expected NAMESPACE/NAME or NAME with -n NAMESPACE"));
        }
    }
    // A big cluster's model is a few million small allocations, and the process is about to
    // end: freeing them one by one would take a tenth of the run.
    std::mem::forget(cluster);

    if let Err(e) = crate::render::render(&report, s.format, &mut out).and_then(|_| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return cli::EXIT_OK;
        }
        return fail(&format!("cannot write output: {e}"));
    }
    if let Some(r) = &report.reach {
        return match r.verdict {
            crate::report::Verdict::Allowed => cli::EXIT_OK,
            _ => cli::EXIT_FINDINGS,
        };
    }
    if analyze::fails(&report, s.fail_on) {
        cli::EXIT_FINDINGS
    } else {
        cli::EXIT_OK
    }
}

fn fail(msg: &str) -> i32 {
    eprintln!("netcheck: error: {msg}");
    cli::EXIT_ERROR
}

async fn collect(s: &cli::Settings) -> Result<Cluster, Fatal> {
    let mut c = match (&s.snapshot_in, &s.dump_in) {
        (Some(p), _) => collect::snapshot::load(p)?,
        (None, Some(d)) => collect::dump::load(d, s.live.logs, s.live.log_bytes)?,
        (None, None) => match collect::live::collect(&s.live).await {
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
