//! Command-line interface: clap types, resolved once into `Settings`.

use crate::discover::{proxy::LogPolicy, Hints};
use crate::render::Format;
use crate::report::{Command, Scope, Severity};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

mod fleet;
mod practice;
mod services;
mod tools;
pub use fleet::FleetArgs;
pub use practice::{PracticeArgs, TopicArg};
pub use services::ServicesFormat;
pub use tools::{Shell, Tools};

pub const EXIT_OK: i32 = 0;
pub const EXIT_FINDINGS: i32 = 1;
pub const EXIT_ERROR: i32 = 2;
pub const EXIT_INTERRUPTED: i32 = 130;

const AFTER_HELP: &str = "\
Exit codes:
  0    no finding at or above --fail-on (can-reach: allowed)
  1    findings at or above --fail-on (can-reach: denied, or unknown)
  2    error: bad flags, unreadable kubeconfig or snapshot, unreachable cluster
  130  interrupted (Ctrl-C)

netcheck only reads (GET) unless --probe-service-cidr (a dry-run create) or --exec-rules (runs
dump tools in kube-proxy pods) is given. Reads it may not make are reported as \"skipped\" with
the permission they need; see deploy/rbac.yaml.";

#[derive(Parser, Debug)]
#[command(version, about = "How this Kubernetes cluster's networking is laid out, and where it is broken — with evidence", after_help = AFTER_HELP)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(flatten)]
    pub view: View,
    #[command(subcommand)]
    pub command: Option<Cmd>,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Every answer (node network, pod and service CIDRs, CNI, proxy mode, deployment) and all findings (the default)
    Report(View),
    /// Node network, pod CIDR and service CIDR with their sources, and overlaps between them
    Cidrs(View),
    /// How full each range is: node podCIDR slots, the CNI's pool, each node's podCIDR against
    /// its pods and maxPods, ClusterIPs, NodePorts; address-exhaustion events, duplicate pod
    /// IPs, NetworkUnavailable nodes, version skew
    Capacity(View),
    /// kube-proxy's configured and running mode on each node (or what replaces it)
    ProxyMode(View),
    /// How kube-proxy and the CNI agent are deployed, and which nodes lack a ready one, and why
    Daemonsets(View),
    /// Every Service from its ClusterIP to the pods behind it: selector, readiness, endpoints,
    /// targetPort, NodePort range, LoadBalancer status, external IPs, traffic policy, DNS
    Services(ServicesArgs),
    /// The rules kube-proxy wrote on each node (iptables, ipvs, nftables; from --rules files or
    /// --on-node), compared with the Services and EndpointSlices of the API
    Rules(View),
    /// The path of a packet to a Service: entry rule, Service chain, each endpoint with its
    /// share, the pod and its node. Without rule dumps, the path kube-proxy should have written
    Trace(TraceArgs),
    /// NetworkPolicies per namespace: which pods are isolated for ingress and egress, policies
    /// that select no pod, rules that can never match; whether the CNI enforces them at all
    Policies(View),
    /// Whether FROM may reach TO under the NetworkPolicies (and AdminNetworkPolicies), and
    /// why, per pod pair. Exit code 0: allowed; 1: denied (or unknown); 2: bad input
    CanReach(CanReachArgs),
    /// Many clusters at once (kubeconfig contexts, saved snapshots and reports): one row each,
    /// and the pod, service and node ranges that overlap between them
    Fleet(FleetArgs),
    /// The CKA lab's questions about this cluster, one at a time: answer, get judged, see the
    /// commands that find it. --answers FILE judges a YAML file of answers instead
    Practice(PracticeArgs),
    /// What changed between two snapshots or two `report -o json` files of a cluster: new,
    /// resolved and unchanged findings; ranges, CNI, proxy modes and deployments. --fail-on
    /// applies to the new findings only
    Diff(DiffArgs),
    /// Serve the Model Context Protocol on stdin/stdout: read-only tools (report, cidrs,
    /// proxy_mode, daemonsets, services, capacity, policies, can_reach, trace, diff) for AI agents
    Mcp,
    /// Every finding id: its severity, what it means, which command makes it and the
    /// permission it needs (the ids --only and --skip take)
    Checks(View),
    /// Save everything netcheck reads to one JSON file, for offline use with --snapshot
    Snapshot {
        /// File to write ("-" for standard output)
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
    },
    #[command(flatten)]
    Tools(Tools),
}

#[derive(Args, Debug, Clone)]
pub struct ServicesArgs {
    /// One Service, as NAMESPACE/NAME or NAME (with -n): a detail view like `kubectl describe`
    #[arg(value_name = "SERVICE")]
    pub service: Option<String>,
    /// Only this namespace
    #[arg(short, long, value_name = "NS")]
    pub namespace: Option<String>,
    /// All namespaces (the default)
    #[arg(short = 'A', long, conflicts_with = "namespace")]
    pub all_namespaces: bool,
    /// Output format (wide and name as kubectl's)
    #[arg(short, long, value_enum, value_name = "FORMAT")]
    pub output: Option<ServicesFormat>,
    /// Only the table's rows: no header line, no cluster context above, no findings below
    #[arg(long)]
    pub no_headers: bool,
    /// Under each answer, show the manual commands that check it, with this cluster's names
    #[arg(long)]
    pub explain: bool,
}

#[derive(Args, Debug, Clone)]
pub struct DiffArgs {
    /// The earlier snapshot or report (JSON, as netcheck wrote it)
    #[arg(value_name = "BEFORE")]
    pub before: PathBuf,
    /// The later snapshot or report
    #[arg(value_name = "AFTER")]
    pub after: PathBuf,
    #[command(flatten)]
    pub view: View,
}

#[derive(Args, Debug, Clone)]
pub struct CanReachArgs {
    /// Where the traffic starts: NAMESPACE/POD, NAMESPACE/LABEL=VALUE[,...] (those pods),
    /// svc/NAMESPACE/SERVICE (its pods), or an IP address or CIDR outside the cluster
    #[arg(value_name = "FROM")]
    pub from: String,
    /// Where it goes, in the same forms; a Service's port is its targetPort on the pods
    #[arg(value_name = "TO")]
    pub to: String,
    /// The destination port, PORT[/PROTOCOL] (TCP unless said); without it, any port
    #[arg(long, value_name = "PORT/PROTO")]
    pub port: Option<String>,
    #[command(flatten)]
    pub view: View,
}

#[derive(Args, Debug, Clone)]
pub struct TraceArgs {
    /// The Service, as NAMESPACE/NAME or NAME (with -n); or start outside with --host
    #[arg(
        value_name = "SERVICE",
        required_unless_present = "host",
        conflicts_with = "host"
    )]
    pub service: Option<String>,
    /// Start where users do: the Ingress or Gateway API route serving this host name
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,
    /// With --host: the request path [default: /]
    #[arg(long, value_name = "PATH", requires = "host")]
    pub path: Option<String>,
    /// The Service's namespace [default: default]
    #[arg(short, long, value_name = "NS")]
    pub namespace: Option<String>,
    /// Only this port (number or name)
    #[arg(long, value_name = "PORT")]
    pub port: Option<String>,
    /// Only this node's rules (or, without dumps, its node-local endpoints)
    #[arg(long, value_name = "NODE")]
    pub node: Option<String>,
    #[command(flatten)]
    pub view: View,
}

#[derive(Args, Debug, Clone)]
pub struct View {
    /// Output format
    #[arg(short, long, value_enum, value_name = "FORMAT")]
    pub output: Option<Format>,
    /// Under each answer, show the manual commands that check it, with this cluster's names
    #[arg(long)]
    pub explain: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Info,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Args, Debug)]
pub struct Global {
    /// Report only these finding ids (comma-separated or repeated; `netcheck checks` lists them)
    #[arg(long, global = true, value_delimiter = ',', value_name = "IDS")]
    pub only: Vec<String>,
    /// Leave out these finding ids (comma-separated or repeated)
    #[arg(long, global = true, value_delimiter = ',', value_name = "IDS")]
    pub skip: Vec<String>,
    /// Leave out the subjects (pods, Services, endpoints) of this namespace; a finding left
    /// without subjects goes too
    #[arg(long, global = true, value_name = "NS")]
    pub skip_namespace: Vec<String>,
    /// Path to the kubeconfig file (default: KUBECONFIG, then ~/.kube/config, then in-cluster);
    /// `fleet` takes it repeated, each file's contexts read from that file
    #[arg(long, global = true, value_name = "FILE", action = clap::ArgAction::Append)]
    pub kubeconfig: Vec<PathBuf>,
    /// kubeconfig context to use
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// Time limit for each API request (e.g. 5s, 500ms, 1m)
    #[arg(long, global = true, default_value = "5s", value_parser = parse_duration, value_name = "DURATION")]
    pub request_timeout: Duration,
    /// Collect again every --interval and print only what changed since the last round
    /// (report, cidrs, proxy-mode, daemonsets, services, capacity); Ctrl-C ends it
    #[arg(long, global = true)]
    pub watch: bool,
    /// Time between --watch rounds
    #[arg(long, global = true, default_value = "30s", value_parser = parse_duration, value_name = "DURATION", requires = "watch")]
    pub interval: Duration,
    /// Time limit for the whole collection; reads still pending are reported as skipped
    #[arg(long, global = true, default_value = "60s", value_parser = parse_duration, value_name = "DURATION")]
    pub timeout: Duration,
    /// Read a snapshot file instead of a cluster (no network access at all)
    #[arg(long, global = true, value_name = "FILE")]
    pub snapshot: Option<PathBuf>,
    /// Read a support bundle instead of a cluster: the directory written by `kubectl
    /// cluster-info dump --output-directory DIR` (-o json or -o yaml; no network access at all)
    #[arg(long, global = true, value_name = "DIR", conflicts_with = "snapshot")]
    pub dump: Option<PathBuf>,
    /// Also read this host: static-pod manifests, interface addresses, /run/flannel/subnet.env
    #[arg(long, global = true)]
    pub on_node: bool,
    /// Directory read with --on-node: static-pod manifests (*.yaml) and flag files named after
    /// their component, as in MicroK8s's args directory [default: /etc/kubernetes/manifests,
    /// or /var/snap/microk8s/current/args on a MicroK8s node]
    #[arg(long, global = true, value_name = "DIR")]
    pub manifests_dir: Option<PathBuf>,
    /// The node network, when nothing in the cluster states its prefix (comma-separated CIDRs)
    #[arg(long, global = true, value_name = "CIDRS", value_parser = parse_cidrs)]
    pub node_cidr: Vec<Vec<ipnet::IpNet>>,
    /// A node's rule dump, as NODE=FILE (repeatable): the output of iptables-save,
    /// iptables -t nat -L -n, nft list ruleset (or nft -j), ipvsadm -Ln or ipvsadm-save -n;
    /// the format is detected. Kept in snapshots
    #[arg(long, global = true, value_name = "NODE=FILE", value_parser = parse_rules_arg)]
    pub rules: Vec<(String, PathBuf)>,
    /// STARTS PROCESSES IN PODS: take each node's rule dump by running iptables-save (or nft,
    /// ipvsadm-save, per the node's mode) inside its kube-proxy pod, 8 at a time, 30s each.
    /// Needs create pods/exec, which deploy/rbac.yaml does not grant
    #[arg(long, global = true)]
    pub exec_rules: bool,
    /// Ranges that must not collide with the cluster's: VPNs, office LANs (comma-separated CIDRs)
    #[arg(long, global = true, value_name = "CIDRS", value_parser = parse_cidrs)]
    pub also_check: Vec<Vec<ipnet::IpNet>>,
    /// WRITES (dry run): POST a Service with an out-of-range clusterIP using dryRun=All, to learn
    /// the service range from the API server's refusal. Nothing is stored. Needs create services.
    #[arg(long, global = true)]
    pub probe_service_cidr: bool,
    /// Which kube-proxy logs to read: auto (all up to 50 pods, then a sample), all, none
    #[arg(long, global = true, value_enum, default_value = "auto")]
    pub logs: LogPolicy,
    /// Bytes read from the start of each log
    #[arg(long, global = true, default_value_t = 65536, value_name = "BYTES")]
    pub log_bytes: usize,
    /// Logs read at once: each read the API server passes on to the pod's node (its kubelet)
    #[arg(long, global = true, default_value_t = 8, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub log_concurrency: u16,
    /// Items per page when listing
    #[arg(long, global = true, default_value_t = 500, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10000))]
    pub page_size: u32,
    /// Exit 1 when a finding is at or above this severity
    #[arg(long, global = true, value_enum, default_value = "warning")]
    pub fail_on: FailOn,
    /// When to colour the text output (NO_COLOR is honoured by auto)
    #[arg(long, global = true, value_enum, default_value = "auto")]
    pub color: Color,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map(|i| s.split_at(i))
        .unwrap_or((s, "s"));
    let n: f64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a duration; expected e.g. 5s, 500ms, 2m"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" | "" => n,
        "m" => n * 60.0,
        _ => return Err(format!("'{s}': unknown unit '{unit}'; use ms, s or m")),
    };
    if !(secs > 0.0 && secs < 86400.0) {
        return Err(format!("'{s}' must be more than 0 and less than a day"));
    }
    Ok(Duration::from_secs_f64(secs))
}

fn parse_rules_arg(s: &str) -> Result<(String, PathBuf), String> {
    match s.split_once('=') {
        Some((node, file)) if !node.is_empty() && !file.is_empty() => {
            Ok((node.to_string(), PathBuf::from(file)))
        }
        _ => Err(format!(
            "'{s}' is not NODE=FILE (e.g. --rules node-1=node-1.iptables-save)"
        )),
    }
}

fn parse_cidrs(s: &str) -> Result<Vec<ipnet::IpNet>, String> {
    let (ok, bad) = crate::cidr::parse_list(s);
    if bad.is_empty() {
        Ok(ok)
    } else {
        Err(bad.join("; "))
    }
}

impl ServicesArgs {
    /// `NS/NAME`, or `NAME` in `-n NS` (default namespace "default", as kubectl's).
    fn scope(&self) -> Scope {
        match self.service.as_deref().map(|s| s.split_once('/')) {
            Some(Some((ns, name))) => Scope {
                namespace: Some(ns.into()),
                service: Some(name.into()),
                ..Default::default()
            },
            Some(None) => Scope {
                namespace: Some(self.namespace.clone().unwrap_or_else(|| "default".into())),
                service: self.service.clone(),
                ..Default::default()
            },
            None => Scope {
                namespace: self.namespace.clone(),
                ..Default::default()
            },
        }
    }
}

impl TraceArgs {
    fn scope(&self) -> Scope {
        let Some(service) = &self.service else {
            return Scope {
                host: self.host.clone(),
                path: Some(self.path.clone().unwrap_or_else(|| "/".into())),
                port: self.port.clone(),
                node: self.node.clone(),
                ..Default::default()
            };
        };
        let (ns, name) = match service.split_once('/') {
            Some((ns, name)) => (ns.to_string(), name.to_string()),
            None => (
                self.namespace.clone().unwrap_or_else(|| "default".into()),
                service.clone(),
            ),
        };
        Scope {
            namespace: Some(ns),
            service: Some(name),
            port: self.port.clone(),
            node: self.node.clone(),
            ..Default::default()
        }
    }
}

/// What to do, decided once from the flags.
#[derive(Debug)]
pub struct Settings {
    pub command: Option<Command>,
    /// For `services`: which Services.
    pub scope: Scope,
    /// For `can-reach`: FROM, TO and --port as typed, parsed (exit 2 if bad) before reading.
    pub reach_args: Option<CanReachArgs>,
    pub snapshot_out: Option<PathBuf>,
    pub format: Format,
    /// `services -o wide|name`, `--no-headers`.
    pub listing: crate::render::Listing,
    pub explain: bool,
    pub fail_on: Option<Severity>,
    pub color: bool,
    pub hints: Hints,
    pub snapshot_in: Option<PathBuf>,
    /// --dump DIR: a `kubectl cluster-info dump` directory.
    pub dump_in: Option<PathBuf>,
    pub on_node: Option<PathBuf>,
    /// --rules NODE=FILE
    pub rules: Vec<(String, PathBuf)>,
    /// --exec-rules: opt-in, starts processes in kube-proxy pods.
    pub exec_rules: bool,
    /// Every --kubeconfig given: one, except for `fleet`.
    pub kubeconfigs: Vec<PathBuf>,
    pub filter: crate::analyze::Filter,
    /// --watch: the time between rounds.
    pub watch: Option<Duration>,
    pub live: crate::collect::live::Options,
}

impl Cli {
    pub fn settings(self) -> Settings {
        use std::io::IsTerminal;
        let g = self.global;
        let mut scope = Scope::default();
        let mut listing = crate::render::Listing::default();
        let mut reach_args = None;
        let (command, view, snapshot_out) = match self.command {
            None => (Some(Command::Report), self.view, None),
            Some(Cmd::Report(v)) => (Some(Command::Report), v, None),
            Some(Cmd::Cidrs(v)) => (Some(Command::Cidrs), v, None),
            Some(Cmd::Capacity(v)) => (Some(Command::Capacity), v, None),
            Some(Cmd::ProxyMode(v)) => (Some(Command::ProxyMode), v, None),
            Some(Cmd::Daemonsets(v)) => (Some(Command::Daemonsets), v, None),
            Some(Cmd::Services(a)) => {
                scope = a.scope();
                let (format, l) = a
                    .output
                    .unwrap_or(ServicesFormat::Table)
                    .split(a.no_headers);
                listing = l;
                let view = View {
                    output: Some(format),
                    explain: a.explain,
                };
                (Some(Command::Services), view, None)
            }
            Some(Cmd::Rules(v)) => (Some(Command::Rules), v, None),
            Some(Cmd::Policies(v)) => (Some(Command::Policies), v, None),
            Some(Cmd::CanReach(a)) => {
                let view = a.view.clone();
                reach_args = Some(a);
                (Some(Command::CanReach), view, None)
            }
            Some(Cmd::Trace(a)) => {
                scope = a.scope();
                (Some(Command::Trace), a.view, None)
            }
            Some(Cmd::Fleet(a)) => (Some(Command::Report), a.view, None),
            Some(Cmd::Practice(_)) => (Some(Command::Report), self.view, None),
            Some(Cmd::Checks(v)) => (None, v, None),
            // Handled by app::main before any settings are made.
            Some(Cmd::Mcp) => (None, self.view, None),
            Some(Cmd::Diff(a)) => (None, a.view, None),
            // Handled by app::main before any settings are made.
            Some(Cmd::Tools(_)) => (Some(Command::Report), self.view, None),
            Some(Cmd::Snapshot { output }) => (None, self.view, Some(output)),
        };
        let color = match g.color {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stdout().is_terminal()
            }
        };
        Settings {
            command,
            scope,
            reach_args,
            snapshot_out,
            format: view.output.unwrap_or(Format::Table),
            listing,
            explain: view.explain,
            fail_on: match g.fail_on {
                FailOn::Error => Some(Severity::Error),
                FailOn::Warning => Some(Severity::Warning),
                FailOn::Info => Some(Severity::Info),
                FailOn::Never => None,
            },
            color,
            hints: Hints {
                node_cidrs: g.node_cidr.concat(),
                also_check: g.also_check.concat(),
            },
            snapshot_in: g.snapshot,
            dump_in: g.dump,
            rules: g.rules,
            exec_rules: g.exec_rules,

            on_node: g.on_node.then(|| {
                g.manifests_dir
                    .unwrap_or_else(|| crate::collect::node::default_dir().to_path_buf())
            }),
            kubeconfigs: g.kubeconfig.clone(),
            watch: g.watch.then_some(g.interval),
            filter: crate::analyze::Filter {
                only: g.only.clone(),
                skip: g.skip.clone(),
                skip_namespaces: g.skip_namespace.clone(),
            },
            live: crate::collect::live::Options {
                kubeconfig: g.kubeconfig.first().cloned(),
                context: g.context,
                request_timeout: g.request_timeout,
                deadline: g.timeout,
                page_size: g.page_size,
                logs: g.logs,
                log_bytes: g.log_bytes.clamp(1024, 16 << 20),
                log_concurrency: g.log_concurrency.into(),
                probe_service_cidr: g.probe_service_cidr,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("3").unwrap(), Duration::from_secs(3));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("5h").unwrap_err().contains("unknown unit"));
        assert!(parse_duration("abc").is_err());
    }

    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
