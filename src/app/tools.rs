//! netcheck about itself: `--version`'s long form, `completion SHELL`, `man`, and the
//! completion executable kubectl runs for `kubectl netcheck <TAB>`.

use crate::cli::{self, Cli, Tools};
use crate::collect;
use clap::CommandFactory;
use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

/// The Kubernetes version whose API types k8s-openapi was built for: the `v1_*` feature in
/// Cargo.toml, read back through the crate's own conditional macros so it cannot drift.
#[allow(unreachable_code)]
pub fn k8s_openapi_version() -> &'static str {
    k8s_openapi::k8s_if_1_33! { return "1.33"; }
    k8s_openapi::k8s_if_1_34! { return "1.34"; }
    k8s_openapi::k8s_if_1_35! { return "1.35"; }
    k8s_openapi::k8s_if_1_36! { return "1.36"; }
    k8s_openapi::k8s_if_1_37! { return "1.37"; }
    "unknown"
}

/// The API groups and versions netcheck reads, as (group/version, what). tests/packaging.rs
/// checks this against the request paths in src/collect, so a new read must be listed here.
pub const APIS: &[(&str, &str)] = &[
    (
        "core/v1",
        "nodes, pods, pods/log, services, endpoints (when EndpointSlices cannot be read), \
         configmaps; pods/exec with --exec-rules; a dry-run services create with --probe-service-cidr",
    ),
    ("apps/v1", "daemonsets"),
    ("discovery.k8s.io/v1", "endpointslices"),
    (
        "networking.k8s.io/v1",
        "servicecidrs, ipaddresses, networkpolicies, ingresses, ingressclasses",
    ),
    ("networking.k8s.io/v1beta1", "servicecidrs (when v1 is not served)"),
    ("crd.projectcalico.org/v1", "ippools (when Calico runs)"),
    (
        "gateway.networking.k8s.io/v1",
        "gatewayclasses, gateways, httproutes, grpcroutes, referencegrants (where installed)",
    ),
    (
        "gateway.networking.k8s.io/v1beta1",
        "the same, where v1 is not served (referencegrants: before v1)",
    ),
    (
        "gateway.networking.k8s.io/v1alpha2",
        "tlsroutes, tcproutes (experimental channel); grpcroutes before v1",
    ),
];

fn long_version() -> String {
    let mut s = format!(
        "{}\nKubernetes API types: k8s-openapi built for Kubernetes {} (feature v1_{})\nAPI versions read:\n",
        env!("CARGO_PKG_VERSION"),
        k8s_openapi_version(),
        k8s_openapi_version().trim_start_matches("1.")
    );
    for (gv, what) in APIS {
        s.push_str(&format!("  {gv:<26} {what}\n"));
    }
    s.push_str("  /version                   the server's version (nonResourceURLs)");
    s
}

/// The clap command with the long version, which is computed at run time.
pub fn command() -> clap::Command {
    // clap keeps only 'static strings; one per process.
    let v: &'static str = Box::leak(long_version().into_boxed_str());
    Cli::command().long_version(v)
}

/// `netcheck completion SHELL` and `netcheck man`.
pub fn run(t: &Tools) -> i32 {
    let mut cmd = command();
    let mut out = Vec::new();
    match t {
        Tools::Completion { shell } => {
            // The scripts complete the `netcheck` command; `kubectl netcheck` goes through
            // kubectl's own completion and kubectl_complete-netcheck.
            clap_complete::generate(*shell, &mut cmd, "netcheck", &mut out);
        }
        Tools::Man => {
            if let Err(e) = clap_mangen::Man::new(cmd).render(&mut out) {
                eprintln!("netcheck: error: cannot render the man page: {e}");
                return cli::EXIT_ERROR;
            }
        }
    }
    match std::io::stdout().lock().write_all(&out) {
        Ok(()) => cli::EXIT_OK,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => cli::EXIT_OK,
        Err(e) => {
            eprintln!("netcheck: error: cannot write output: {e}");
            cli::EXIT_ERROR
        }
    }
}

// Cobra's ShellCompDirective bits, which kubectl reads from the last line (`:N`) of a
// plugin completion executable's output (kubectl pkg/cmd/plugin/plugin_completion.go).
pub const DIRECTIVE_DEFAULT: u32 = 0;
pub const DIRECTIVE_NO_SPACE: u32 = 2;
pub const DIRECTIVE_NO_FILE_COMP: u32 = 4;
pub const DIRECTIVE_FILTER_DIRS: u32 = 16;

/// What to offer for the last word, and how the shell should treat it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Completion {
    /// (candidate, description)
    pub candidates: Vec<(String, String)>,
    pub directive: u32,
}

/// Values typed on the command line that change where names come from.
#[derive(Default)]
struct Seen {
    kubeconfig: Option<PathBuf>,
    context: Option<String>,
    snapshot: Option<PathBuf>,
    dump: Option<PathBuf>,
}

impl Seen {
    fn note(&mut self, arg: &clap::Arg, value: &str) {
        let v = || Some(value.to_string());
        match arg.get_id().as_str() {
            "kubeconfig" => self.kubeconfig = v().map(PathBuf::from),
            "context" => self.context = v(),
            "snapshot" => self.snapshot = v().map(PathBuf::from),
            "dump" => self.dump = v().map(PathBuf::from),
            _ => {}
        }
    }
}

fn takes_value(a: &clap::Arg) -> bool {
    a.get_num_args().is_some_and(|n| n.takes_values())
}

fn long<'a>(cmd: &'a clap::Command, name: &str) -> Option<&'a clap::Arg> {
    cmd.get_arguments().find(|a| {
        a.get_long() == Some(name) || a.get_all_aliases().is_some_and(|x| x.contains(&name))
    })
}

fn short(cmd: &clap::Command, c: char) -> Option<&clap::Arg> {
    cmd.get_arguments().find(|a| a.get_short() == Some(c))
}

fn subcommand<'a>(cmd: &'a clap::Command, name: &str) -> Option<&'a clap::Command> {
    cmd.get_subcommands()
        .find(|s| s.get_name() == name || s.get_all_aliases().any(|a| a == name))
}

/// A description short enough to sit beside a candidate in a shell's menu.
fn about(x: Option<&clap::builder::StyledStr>) -> String {
    const WIDTH: usize = 72;
    let s = x.map(|s| s.to_string()).unwrap_or_default();
    let line = s.lines().next().unwrap_or_default();
    if line.chars().count() <= WIDTH {
        return line.to_string();
    }
    let cut: String = line.chars().take(WIDTH).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{}…", cut.trim_end_matches([',', ';', ':', ' ']))
}

/// The candidates for the last of `words` (the words typed after `netcheck`, the last one
/// being the word under the cursor, possibly empty), from the clap definitions, with
/// contexts and namespaces looked up as `names` says.
pub fn complete(words: &[String], names: &dyn Names) -> Completion {
    let mut root = command();
    root.build();
    let (typed, current) = match words.split_last() {
        Some((last, rest)) => (rest, last.as_str()),
        None => (&[][..], ""),
    };
    let mut cmd = &root;
    let mut seen = Seen::default();
    let mut pending: Option<&clap::Arg> = None;
    let mut positionals = 0;
    let mut only_positionals = false;
    for w in typed {
        if let Some(a) = pending.take() {
            seen.note(a, w);
            continue;
        }
        if only_positionals {
            positionals += 1;
        } else if w == "--" {
            only_positionals = true;
        } else if let Some(flag) = w.strip_prefix("--") {
            let (name, value) = match flag.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (flag, None),
            };
            if let Some(a) = long(cmd, name) {
                match value {
                    Some(v) => seen.note(a, v),
                    None if takes_value(a) => pending = Some(a),
                    None => {}
                }
            }
        } else if let Some(flags) = w.strip_prefix('-').filter(|f| !f.is_empty()) {
            // -A, -n NS, -nNS, -oyaml: the first flag that takes a value takes the rest.
            for (i, c) in flags.char_indices() {
                let Some(a) = short(cmd, c) else { break };
                if takes_value(a) {
                    let rest = &flags[i + c.len_utf8()..];
                    let rest = rest.strip_prefix('=').unwrap_or(rest);
                    if rest.is_empty() {
                        pending = Some(a);
                    } else {
                        seen.note(a, rest);
                    }
                    break;
                }
            }
        } else if let Some(sub) = (positionals == 0).then(|| subcommand(cmd, w)).flatten() {
            cmd = sub;
        } else {
            positionals += 1;
        }
    }
    if let Some(a) = pending {
        return values(a, "", current, &seen, names);
    }
    if !only_positionals {
        if let Some((name, value)) = current.strip_prefix("--").and_then(|f| f.split_once('=')) {
            return match long(cmd, name) {
                Some(a) => values(a, &format!("--{name}="), value, &seen, names),
                None => Completion {
                    directive: DIRECTIVE_NO_FILE_COMP,
                    ..Default::default()
                },
            };
        }
        if current.starts_with('-') {
            return flags(cmd, current);
        }
    }
    let mut c = Completion {
        directive: DIRECTIVE_NO_FILE_COMP,
        ..Default::default()
    };
    if positionals == 0 && !only_positionals {
        for s in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            if s.get_name().starts_with(current) {
                c.candidates
                    .push((s.get_name().to_string(), about(s.get_about())));
            }
        }
    }
    let positional = cmd
        .get_positionals()
        .filter(|a| !a.is_hide_set())
        .nth(positionals);
    if let Some(a) = positional {
        let v = values(a, "", current, &seen, names);
        c.candidates.extend(v.candidates);
    }
    c
}

/// Every flag of `cmd` (its own and the global ones) that starts with `current`.
fn flags(cmd: &clap::Command, current: &str) -> Completion {
    let mut c = Completion {
        directive: DIRECTIVE_NO_FILE_COMP,
        ..Default::default()
    };
    for a in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
        let help = about(a.get_help());
        let forms = a.get_long().map(|l| format!("--{l}")).into_iter().chain(
            // A lone '-' lists the short forms too; '--x' only the long ones.
            a.get_short()
                .filter(|_| !current.starts_with("--"))
                .map(|s| format!("-{s}")),
        );
        for f in forms {
            if f.starts_with(current) {
                c.candidates.push((f, help.clone()));
            }
        }
    }
    c
}

/// Where completion looks up contexts and namespaces; tests give their own.
pub trait Names {
    fn contexts(&self, kubeconfig: Option<&std::path::Path>) -> Vec<String>;
    fn namespaces(&self, seen: &SeenSource) -> Vec<String>;
}

/// Where the namespaces should come from: the snapshot or bundle typed on the line, else the
/// cluster of the kubeconfig and context typed (or the defaults).
pub enum SeenSource {
    Snapshot(PathBuf),
    Dump(PathBuf),
    Live {
        kubeconfig: Option<PathBuf>,
        context: Option<String>,
    },
}

/// The values of `arg` that start with `current`, each written after `prefix`.
fn values(
    arg: &clap::Arg,
    prefix: &str,
    current: &str,
    seen: &Seen,
    names: &dyn Names,
) -> Completion {
    let mut c = Completion {
        directive: DIRECTIVE_NO_FILE_COMP,
        ..Default::default()
    };
    let mut offer = |value: String, help: String| {
        if value.starts_with(current) {
            c.candidates.push((format!("{prefix}{value}"), help));
        }
    };
    let possible = arg.get_possible_values();
    if !possible.is_empty() {
        for p in possible.iter().filter(|p| !p.is_hide_set()) {
            offer(p.get_name().to_string(), about(p.get_help()));
        }
        return c;
    }
    match arg.get_id().as_str() {
        "context" => {
            for n in names.contexts(seen.kubeconfig.as_deref()) {
                offer(n, String::new());
            }
        }
        "contexts" => {
            // A comma-separated list: complete its last item, keeping those before it.
            let (done, last) = match current.rsplit_once(',') {
                Some((d, l)) => (format!("{d},"), l),
                None => (String::new(), current),
            };
            let mut c = Completion {
                directive: DIRECTIVE_NO_FILE_COMP | DIRECTIVE_NO_SPACE,
                ..Default::default()
            };
            for n in names.contexts(seen.kubeconfig.as_deref()) {
                if n.starts_with(last) {
                    c.candidates
                        .push((format!("{prefix}{done}{n}"), String::new()));
                }
            }
            return c;
        }
        "namespace" => {
            let source = match (&seen.snapshot, &seen.dump) {
                (Some(s), _) => SeenSource::Snapshot(s.clone()),
                (None, Some(d)) => SeenSource::Dump(d.clone()),
                (None, None) => SeenSource::Live {
                    kubeconfig: seen.kubeconfig.clone(),
                    context: seen.context.clone(),
                },
            };
            for n in names.namespaces(&source) {
                offer(n, String::new());
            }
        }
        _ => match arg
            .get_value_names()
            .and_then(|v| v.first())
            .map(|v| v.as_str())
        {
            Some("FILE") => c.directive = DIRECTIVE_DEFAULT,
            Some("DIR") => c.directive = DIRECTIVE_FILTER_DIRS,
            _ => {}
        },
    }
    c
}

/// Names from the kubeconfig, the cluster, a snapshot or a bundle; any failure is no names.
pub struct Lookup {
    /// Time allowed for listing a live cluster's namespaces, credential plugin included.
    pub limit: Duration,
}

impl Names for Lookup {
    fn contexts(&self, kubeconfig: Option<&std::path::Path>) -> Vec<String> {
        collect::fleet::contexts(kubeconfig)
            .map(|v| v.into_iter().map(|(name, _)| name).collect())
            .unwrap_or_default()
    }

    fn namespaces(&self, source: &SeenSource) -> Vec<String> {
        let names = match source {
            SeenSource::Snapshot(p) => collect::names::snapshot(p),
            SeenSource::Dump(d) => collect::names::dump(d),
            SeenSource::Live {
                kubeconfig,
                context,
            } => {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return Vec::new();
                };
                let names = rt.block_on(collect::names::live(
                    kubeconfig.as_deref(),
                    context.as_deref(),
                    self.limit,
                ));
                // A credential plugin or a connection still pending must not hold the prompt.
                rt.shutdown_background();
                names
            }
        };
        names.unwrap_or_default()
    }
}

/// Cobra's `__complete` output: one candidate a line (a tab before its description), then
/// `:DIRECTIVE`.
pub fn write_completion(c: &Completion, out: &mut impl Write) -> std::io::Result<()> {
    for (value, help) in &c.candidates {
        // A tab or newline inside a description would break the line format.
        let help: String = help
            .chars()
            .map(|ch| if ch.is_control() { ' ' } else { ch })
            .collect();
        if help.is_empty() {
            writeln!(out, "{value}")?;
        } else {
            writeln!(out, "{value}\t{help}")?;
        }
    }
    writeln!(out, ":{}", c.directive)
}

/// Seconds allowed for listing namespaces, overridable for slow credential plugins.
const LIMIT_ENV: &str = "NETCHECK_COMPLETION_TIMEOUT";

/// The `kubectl_complete-netcheck` executable. kubectl runs it with the words after
/// `kubectl netcheck` and shows whatever it prints, its stderr included: so nothing but
/// candidates is printed, and it always exits 0.
pub fn kubectl_complete_main() -> i32 {
    let words: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a: OsString| a.to_string_lossy().into_owned())
        .collect();
    let limit = std::env::var(LIMIT_ENV)
        .ok()
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| *s > 0.0 && *s < 60.0)
        .map(Duration::from_secs_f64)
        .unwrap_or(Duration::from_secs(2));
    // A panic's message would land on the user's terminal in the middle of the prompt.
    std::panic::set_hook(Box::new(|_| {}));
    let c = std::panic::catch_unwind(|| complete(&words, &Lookup { limit })).unwrap_or_default();
    let _ = write_completion(&c, &mut std::io::stdout().lock());
    cli::EXIT_OK
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed;
    impl Names for Fixed {
        fn contexts(&self, _: Option<&std::path::Path>) -> Vec<String> {
            vec!["prod-eu".into(), "prod-us".into(), "lab".into()]
        }
        fn namespaces(&self, s: &SeenSource) -> Vec<String> {
            match s {
                SeenSource::Live { context, .. } => {
                    vec![format!("ns-of-{}", context.as_deref().unwrap_or("current"))]
                }
                SeenSource::Snapshot(_) => vec!["from-snapshot".into()],
                SeenSource::Dump(_) => vec!["from-dump".into()],
            }
        }
    }

    fn words(line: &str) -> Vec<String> {
        let mut w: Vec<String> = line.split(' ').map(String::from).collect();
        if line.is_empty() {
            w = vec![String::new()];
        }
        w
    }

    fn names(line: &str) -> Vec<String> {
        complete(&words(line), &Fixed)
            .candidates
            .into_iter()
            .map(|(v, _)| v)
            .collect()
    }

    #[test]
    fn short_flags_that_take_values_take_the_rest_of_the_word() {
        let formats = names("services -nx -o ");
        assert!(formats.contains(&"json".to_string()) && formats.contains(&"yaml".to_string()));
        assert_eq!(names("services -A -n "), ["ns-of-current"]);
        assert_eq!(names("services -ojson SVC "), Vec::<String>::new());
    }

    #[test]
    fn the_context_typed_earlier_picks_the_cluster_whose_namespaces_are_listed() {
        assert_eq!(names("--context lab services -n "), ["ns-of-lab"]);
        assert_eq!(names("services --context=prod-eu -n "), ["ns-of-prod-eu"]);
        assert_eq!(names("services --snapshot f.json -n "), ["from-snapshot"]);
        assert_eq!(
            names("services --dump d --namespace="),
            ["--namespace=from-dump"]
        );
    }

    #[test]
    fn contexts_lists_complete_their_last_item() {
        let c = complete(&words("fleet --contexts prod-eu,prod"), &Fixed);
        let v: Vec<_> = c.candidates.iter().map(|(v, _)| v.as_str()).collect();
        assert_eq!(v, ["prod-eu,prod-eu", "prod-eu,prod-us"]);
        assert_ne!(c.directive & DIRECTIVE_NO_SPACE, 0, "the list may go on");
    }

    #[test]
    fn after_a_positional_no_subcommand_is_offered() {
        assert!(names("services my-svc ").is_empty());
        assert!(names("-- ").is_empty());
    }

    #[test]
    fn descriptions_stay_on_their_line() {
        let c = Completion {
            candidates: vec![("a".into(), "x\ty\nz".into()), ("b".into(), String::new())],
            directive: 4,
        };
        let mut out = Vec::new();
        write_completion(&c, &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "a\tx y z\nb\n:4\n");
    }
}
