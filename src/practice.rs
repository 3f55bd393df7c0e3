//! `netcheck practice`: the lab's questions about the cluster at hand, drawn from what the
//! report answers there, judged as an expert would (CIDRs as networks, modes case-insensitive,
//! lists as sets), each followed by the `--explain` commands that find it. Pure: questions
//! and judgements from a `Cluster`; the interactive loop reads and writes any `BufRead` /
//! `Write`, so tests drive it.

use crate::analyze;
use crate::discover::Hints;
use crate::model::Cluster;
use crate::report::{
    Command, ExplainStep, Explanation, FactStatus, Scope, ServiceRow, ServicesAnswer,
};
use ipnet::IpNet;
use serde::Serialize;
use std::collections::BTreeSet;
use std::io::{self, BufRead, Write};
use std::net::IpAddr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PracticeTopic {
    Cidrs,
    Proxy,
    Daemonsets,
    Services,
}

/// How an answer is compared with the expected one.
#[derive(Debug, Clone, PartialEq)]
pub enum Expected {
    /// CIDRs compared as networks, as a set (dual-stack in any order).
    Cidrs(Vec<IpNet>),
    /// A word compared case-insensitively, ignoring spaces, dashes and underscores; any of these.
    Word(Vec<String>),
    /// Names compared as a set, case-insensitively; empty: "none".
    Names(Vec<String>),
    /// IP addresses as a set.
    Ips(Vec<IpAddr>),
    /// Endpoint addresses as a set; an answer may give each as IP:PORT with one of `ports`.
    Endpoints {
        ips: Vec<IpAddr>,
        ports: Vec<i32>,
    },
    /// Port numbers as a set.
    Ports(Vec<i32>),
    /// A port range, FROM-TO.
    PortRange(i32, i32),
    YesNo(bool),
}

#[derive(Debug, Clone)]
pub struct Question {
    /// Stable: `pod-range`, `service-endpoints:default/my-service`...
    pub id: String,
    pub topic: PracticeTopic,
    pub text: String,
    pub expected: Expected,
    /// How to find it by hand, with this cluster's names (from `--explain`).
    pub steps: Vec<ExplainStep>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Right,
    Wrong,
    /// No answer given (empty line, or end of input).
    Unanswered,
    /// The answers file names a question this cluster does not have.
    Unknown,
}

impl Expected {
    /// The answer as a person would write it.
    pub fn display(&self) -> String {
        let list = |v: Vec<String>| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.join(",")
            }
        };
        match self {
            Expected::Cidrs(n) => crate::cidr::join(n),
            Expected::Word(w) => w.first().cloned().unwrap_or_default(),
            Expected::Names(n) => list(n.clone()),
            Expected::Ips(i) => list(i.iter().map(|i| i.to_string()).collect()),
            Expected::Endpoints { ips, ports } => match ports.as_slice() {
                [p] => list(
                    ips.iter()
                        .map(|i| match i {
                            IpAddr::V4(_) => format!("{i}:{p}"),
                            IpAddr::V6(_) => format!("[{i}]:{p}"),
                        })
                        .collect(),
                ),
                _ => list(ips.iter().map(|i| i.to_string()).collect()),
            },
            Expected::Ports(p) => list(p.iter().map(|p| p.to_string()).collect()),
            Expected::PortRange(a, b) => format!("{a}-{b}"),
            Expected::YesNo(b) => if *b { "yes" } else { "no" }.into(),
        }
    }

    pub fn judge(&self, answer: &str) -> Verdict {
        let answer = answer.trim();
        if answer.is_empty() {
            return Verdict::Unanswered;
        }
        let right = match self {
            Expected::Cidrs(want) => {
                parse_cidrs(answer).is_some_and(|got| crate::cidr::same_set(&got, want))
            }
            Expected::Word(w) => w.iter().any(|w| word(w) == word(answer)),
            Expected::Names(want) => {
                let want: BTreeSet<String> = want.iter().map(|n| n.to_lowercase()).collect();
                items(answer).map(|v| {
                    v.into_iter()
                        .map(|n| n.to_lowercase())
                        .collect::<BTreeSet<_>>()
                }) == Some(want)
            }
            Expected::Ips(want) => {
                ips(answer, &[]).is_some_and(|got| got == want.iter().copied().collect())
            }
            Expected::Endpoints { ips: want, ports } => {
                ips(answer, ports).is_some_and(|got| got == want.iter().copied().collect())
            }
            Expected::Ports(want) => {
                items(answer).and_then(|v| {
                    v.iter()
                        .map(|p| p.split('/').next().unwrap_or(p).parse::<i32>().ok())
                        .collect::<Option<BTreeSet<_>>>()
                }) == Some(want.iter().copied().collect())
            }
            Expected::PortRange(a, b) => {
                crate::discover::services::parse_port_range(answer) == Some((*a, *b))
            }
            Expected::YesNo(b) => match word(answer).as_str() {
                "yes" | "y" | "true" | "in" | "inside" => *b,
                "no" | "n" | "false" | "out" | "outside" => !*b,
                _ => false,
            },
        };
        if right {
            Verdict::Right
        } else {
            Verdict::Wrong
        }
    }
}

fn word(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// A list as typed: items separated by commas or spaces; "none" or "-" is the empty list.
fn items(s: &str) -> Option<Vec<String>> {
    let s = s.trim();
    if ["none", "-", "<none>", "nothing"].contains(&s.to_lowercase().as_str()) {
        return Some(vec![]);
    }
    Some(
        s.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect(),
    )
}

/// CIDRs as typed: commas or spaces between them, spaces allowed around the slash.
fn parse_cidrs(s: &str) -> Option<Vec<IpNet>> {
    let joined: Vec<&str> = s.split('/').map(str::trim).collect();
    let joined = joined.join("/");
    let parts = items(&joined)?;
    if parts.is_empty() {
        return None;
    }
    parts.iter().map(|p| crate::cidr::parse(p).ok()).collect()
}

/// Addresses as typed, each alone or as IP:PORT (`[v6]:PORT`) whose port must be one of `ports`.
fn ips(s: &str, ports: &[i32]) -> Option<BTreeSet<IpAddr>> {
    items(s)?
        .iter()
        .map(|p| {
            if let Ok(ip) = p.parse::<IpAddr>() {
                return Some(ip);
            }
            let sa: std::net::SocketAddr = p.parse().ok()?;
            ports.contains(&i32::from(sa.port())).then_some(sa.ip())
        })
        .collect()
}

fn steps_of(explain: &[Explanation], topic: &str) -> Vec<ExplainStep> {
    explain
        .iter()
        .find(|e| e.topic == topic)
        .map(|e| e.steps.clone())
        .unwrap_or_default()
}

/// Every question netcheck can answer on this cluster, in a stable order. A fact it does not
/// know (unknown, or only inferred from addresses in use) gives no question.
pub fn questions(c: &Cluster, hints: &Hints) -> Vec<Question> {
    let report = analyze::analyze(c, hints, Command::Report, true, &Scope::default());
    let all = analyze::analyze(c, hints, Command::Services, false, &Scope::default());
    let mut out = Vec::new();
    let q = |id: &str, topic, text: &str, expected, steps| Question {
        id: id.into(),
        topic,
        text: text.into(),
        expected,
        steps,
    };
    let ex = &report.explain;
    if let Some(a) = &report.cidrs {
        for (id, fact, text, topic) in [
            (
                "node-network",
                &a.node_network,
                "What is the node network (the CIDR the nodes' addresses are in)?",
                "node network",
            ),
            (
                "pod-range",
                &a.pod_cidr,
                "What is the pod range (pod CIDR) of this cluster?",
                "pod range",
            ),
            (
                "service-range",
                &a.service_cidr,
                "What is the service range (service CIDR) of this cluster?",
                "service range",
            ),
        ] {
            if fact.status == FactStatus::Known && !fact.cidrs.is_empty() {
                out.push(q(
                    id,
                    PracticeTopic::Cidrs,
                    text,
                    Expected::Cidrs(fact.cidrs.clone()),
                    steps_of(ex, topic),
                ));
            }
        }
        if a.cni.name != "unknown" && !a.cni.name.is_empty() {
            let mut names = vec![a.cni.name.clone()];
            // k3s-flannel, rke2-canal: the plugin is flannel, canal.
            names.extend(
                ["k3s-", "rke2-"]
                    .iter()
                    .filter_map(|p| a.cni.name.strip_prefix(p))
                    .map(str::to_string),
            );
            names.extend(
                a.cni
                    .daemon_set
                    .iter()
                    .map(|d| d.rsplit('/').next().unwrap_or(d).to_string()),
            );
            out.push(q(
                "cni",
                PracticeTopic::Cidrs,
                "Which CNI plugin gives the pods their addresses?",
                Expected::Word(names),
                steps_of(ex, "pod range"),
            ));
        }
        // Is a given ClusterIP in the service range: the first address past its end is not.
        if a.service_cidr.status == FactStatus::Known {
            if let Some(IpNet::V4(n)) = a.service_cidr.cidrs.first() {
                if let Some(next) = u32::from(n.broadcast()).checked_add(1) {
                    let ip = std::net::Ipv4Addr::from(next);
                    out.push(q(&format!("in-service-range:{ip}"), PracticeTopic::Cidrs, &format!("Is {ip} inside the service range (could a Service get it as its ClusterIP)? (yes/no)"), Expected::YesNo(false), steps_of(ex, "service range")));
                }
            }
        }
    }
    // kube-proxy beside a replacement (kube-proxy-double): two things implement Services, so
    // no one word answers "what implements them".
    let double = report.findings.iter().any(|f| f.id == "kube-proxy-double");
    if let Some(p) = &report.proxy {
        if p.implementation != "unknown" && !double {
            let mut words = vec![p.implementation.clone()];
            if p.implementation.ends_with("-embedded") {
                words.push("kube-proxy".into());
            }
            out.push(q(
                "proxy-implementation",
                PracticeTopic::Proxy,
                "What implements Services on the nodes (kube-proxy, or what replaces it)?",
                Expected::Word(words),
                steps_of(ex, "proxy mode"),
            ));
        }
        let kube_proxy =
            p.implementation == "kube-proxy" || p.implementation.ends_with("-embedded");
        let mode = match p.running_modes.as_slice() {
            [m] => Some(m.clone()),
            [] => p.configured_mode.clone(),
            _ => None,
        };
        if let (true, Some(m)) = (kube_proxy, mode) {
            out.push(q(
                "proxy-mode",
                PracticeTopic::Proxy,
                "Which proxy mode does kube-proxy use (iptables, ipvs, nftables...)?",
                Expected::Word(vec![m]),
                steps_of(ex, "proxy mode"),
            ));
        }
    }
    for d in report.deployments.iter().flatten() {
        if d.kind == "unknown" || !d.unknown.is_empty() {
            continue;
        }
        let c = &d.component;
        // The deployment commands name a kube-proxy pod: for a CNI agent, its DaemonSet first.
        let mut steps = steps_of(ex, "deployment");
        if c != "kube-proxy" {
            steps.retain(|s| !s.command.contains("kube-proxy"));
            if let (Some(name), "DaemonSet") = (&d.name, d.kind.as_str()) {
                let (ns, name) = name.split_once('/').unwrap_or(("kube-system", name));
                steps.insert(0, ExplainStep {
                    command: format!("kubectl -n {ns} get daemonset {name} -o wide"),
                    look_for: "DESIRED, CURRENT and READY: equal numbers mean every eligible node runs one; NODE SELECTOR limits the nodes".into(),
                });
            }
        }
        let mut kinds = vec![d.kind.clone()];
        if d.kind == "DaemonSet" {
            let name = d.name.as_deref().unwrap_or(c);
            kinds.push(format!(
                "DaemonSet/{}",
                name.rsplit('/').next().unwrap_or(name)
            ));
        }
        out.push(q(
            &format!("deployment:{c}"),
            PracticeTopic::Daemonsets,
            &format!("How is {c} deployed (DaemonSet, static-pod, embedded, replaced, absent)?"),
            Expected::Word(kinds),
            steps.clone(),
        ));
        if d.kind == "DaemonSet" || d.kind == "static-pod" {
            let mut missing: Vec<String> = d
                .missing
                .iter()
                .filter(|m| !m.by_design)
                .map(|m| m.node.clone())
                .collect();
            missing.sort();
            out.push(q(
                &format!("missing-nodes:{c}"),
                PracticeTopic::Daemonsets,
                &format!("Which nodes lack a ready {c} pod (node names, or none)?"),
                Expected::Names(missing),
                steps,
            ));
        }
    }
    // An inferred service range is drawn around the ClusterIPs themselves: whether one lies
    // inside it is no fact to ask about.
    let range_known = report
        .cidrs
        .as_ref()
        .is_some_and(|a| a.service_cidr.status == FactStatus::Known);
    if let Some(s) = all.services.as_ref().filter(|s| s.unread.is_empty()) {
        for r in &s.services {
            out.extend(service_questions(c, &report, s, r));
        }
        out.extend(node_port_range_question(c, s));
        // A Service's own ClusterIP: every one outside the range, and the first inside (not
        // the kubernetes Service's, the range's first address).
        let mut inside = false;
        for r in &s.services {
            for ip in &r.cluster_ips {
                let ask = range_known
                    && match ip.in_range {
                        Some(false) => true,
                        Some(true) if !inside && r.name != "kubernetes" => {
                            inside = true;
                            true
                        }
                        _ => false,
                    };
                if ask
                    && !out
                        .iter()
                        .any(|q| q.id == format!("in-service-range:{}", ip.ip))
                {
                    out.push(Question {
                        id: format!("in-service-range:{}", ip.ip),
                        topic: PracticeTopic::Cidrs,
                        text: format!(
                            "Is {} (the ClusterIP of {}/{}) inside the service range? (yes/no)",
                            ip.ip, r.namespace, r.name
                        ),
                        expected: Expected::YesNo(ip.in_range == Some(true)),
                        steps: steps_of(ex, "service range"),
                    });
                }
            }
        }
    }
    out
}

fn service_questions(
    c: &Cluster,
    report: &crate::report::Report,
    s: &ServicesAnswer,
    r: &ServiceRow,
) -> Vec<Question> {
    let mut out = Vec::new();
    if r.kind == "ExternalName" {
        return out;
    }
    let key = format!("{}/{}", r.namespace, r.name);
    let one = ServicesAnswer {
        services: vec![r.clone()],
        ..Default::default()
    };
    let (Some(a), Some(p), Some(d)) = (&report.cidrs, &report.proxy, &report.deployments) else {
        return out;
    };
    let steps = crate::explain::explain(c, a, p, d, Some(&one), Command::Services)
        .into_iter()
        .next()
        .map(|e| e.steps)
        .unwrap_or_default();
    let mk = |id: &str, text: String, expected| Question {
        id: format!("{id}:{key}"),
        topic: PracticeTopic::Services,
        text,
        expected,
        steps: steps.clone(),
    };
    let ips: Vec<IpAddr> = r
        .cluster_ips
        .iter()
        .filter_map(|i| i.ip.parse().ok())
        .collect();
    if !r.headless && !ips.is_empty() {
        out.push(mk(
            "service-cluster-ip",
            format!("What is the ClusterIP of Service {key}?"),
            Expected::Ips(ips),
        ));
    }
    if r.selector.is_some() && s.endpoints_from != "none" {
        // A pod lacking a named targetPort sits in a slice without ports: listed, ready, yet
        // no endpoint of the Service (kubectl shows <none>).
        let none_for_any_port = matches!(r.endpoint_counts(), Some((0, _)));
        let mut ready: Vec<IpAddr> = r
            .endpoints
            .iter()
            .filter(|e| e.ready && !none_for_any_port)
            .filter_map(|e| e.ip.parse().ok())
            .collect();
        ready.sort();
        ready.dedup();
        let mut ports: Vec<i32> = r
            .ports
            .iter()
            .flat_map(|p| {
                let mut v = p.resolved.clone();
                v.extend(p.target_port.parse::<i32>().ok());
                v
            })
            .collect();
        ports.sort();
        ports.dedup();
        out.push(mk(
            "service-endpoints",
            format!("Which ready endpoints does Service {key} have (IPs or IP:PORT, or none)?"),
            Expected::Endpoints { ips: ready, ports },
        ));
    }
    let mut node_ports: Vec<i32> = r.ports.iter().filter_map(|p| p.node_port).collect();
    node_ports.sort();
    node_ports.dedup();
    if !node_ports.is_empty() {
        out.push(mk(
            "service-node-port",
            format!("Which NodePort does Service {key} open on every node?"),
            Expected::Ports(node_ports),
        ));
    }
    if let Some(lb) = &r.load_balancer {
        // Ingress entries carry the IP mode, "192.168.60.240 (VIP)": the address is the first word.
        let addresses: Vec<String> = lb
            .ingress
            .iter()
            .filter_map(|i| i.split_whitespace().next())
            .map(str::to_string)
            .collect();
        let expected = if lb.pending || addresses.is_empty() {
            Expected::Word(vec!["pending".into()])
        } else {
            Expected::Names(addresses)
        };
        let mut q = mk(
            "service-external-address",
            format!(
                "Which external address does LoadBalancer Service {key} have (IPs or host names, or pending)?"
            ),
            expected,
        );
        q.steps.insert(
            0,
            ExplainStep {
                command: format!("kubectl -n {} get service {}", r.namespace, r.name),
                look_for: "EXTERNAL-IP: the load balancer's addresses (status.loadBalancer.ingress); <pending> while nothing has assigned one".into(),
            },
        );
        out.push(q);
    }
    out
}

/// The range NodePorts are allocated from, when kube-apiserver's flags (or its default on a
/// whole command line) are visible.
fn node_port_range_question(c: &Cluster, s: &ServicesAnswer) -> Option<Question> {
    let npr = &s.node_port_range;
    if npr.status != "known" && npr.status != "default" {
        return None;
    }
    let (a, b) = crate::discover::services::parse_port_range(npr.range.as_deref()?)?;
    Some(Question {
        id: "node-port-range".into(),
        topic: PracticeTopic::Services,
        text: "From which port range are NodePorts allocated on this cluster (FROM-TO)?".into(),
        expected: Expected::PortRange(a, b),
        steps: crate::explain::node_port_range(c, &npr.evidence),
    })
}

/// A tiny deterministic generator (splitmix64): the same seed, the same questions.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Fisher-Yates.
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }
}

/// The questions of one session: those of the topics asked for (all when none), shuffled by
/// the seed, at most `n`.
pub fn select(
    mut all: Vec<Question>,
    topics: &[PracticeTopic],
    seed: u64,
    n: Option<usize>,
) -> Vec<Question> {
    all.retain(|q| topics.is_empty() || topics.contains(&q.topic));
    Rng::new(seed).shuffle(&mut all);
    if let Some(n) = n {
        all.truncate(n);
    }
    all
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Judged {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic: Option<PracticeTopic>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub question: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
    /// Only with --reveal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<ExplainStep>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sheet {
    pub api_version: String,
    pub kind: String,
    pub questions: Vec<Judged>,
    pub right: usize,
    pub judged: usize,
}

impl Sheet {
    pub fn all_right(&self) -> bool {
        self.right == self.judged
    }
}

/// The answers file's judgement: each (id, answer) in its order, against this cluster's
/// questions. Without answers, the questions themselves (to script a session).
pub fn judge_all(
    questions: &[Question],
    answers: Option<&[(String, String)]>,
    reveal: bool,
) -> Sheet {
    let entry = |q: &Question, answer: Option<&str>| Judged {
        id: q.id.clone(),
        topic: Some(q.topic),
        question: Some(q.text.clone()),
        answer: answer.map(str::to_string),
        verdict: answer.map(|a| q.expected.judge(a)),
        expected: reveal.then(|| q.expected.display()),
        commands: if reveal { q.steps.clone() } else { vec![] },
    };
    let list: Vec<Judged> = match answers {
        None => questions.iter().map(|q| entry(q, None)).collect(),
        Some(answers) => answers
            .iter()
            .map(|(id, a)| match questions.iter().find(|q| &q.id == id) {
                Some(q) => entry(q, Some(a)),
                None => Judged {
                    id: id.clone(),
                    topic: None,
                    question: None,
                    answer: Some(a.clone()),
                    verdict: Some(Verdict::Unknown),
                    expected: None,
                    commands: vec![],
                },
            })
            .collect(),
    };
    Sheet {
        api_version: crate::report::REPORT_API_VERSION.into(),
        kind: "Practice".into(),
        right: list
            .iter()
            .filter(|j| j.verdict == Some(Verdict::Right))
            .count(),
        judged: list.iter().filter(|j| j.verdict.is_some()).count(),
        questions: list,
    }
}

/// The sheet as text: one line per answer, the expected answer with --reveal.
pub fn write_sheet(s: &Sheet, w: &mut dyn Write) -> io::Result<()> {
    for j in &s.questions {
        let verdict = match j.verdict {
            Some(Verdict::Right) => "right",
            Some(Verdict::Wrong) => "WRONG",
            Some(Verdict::Unanswered) => "unanswered",
            Some(Verdict::Unknown) => "NOT A QUESTION on this cluster",
            None => "",
        };
        match (&j.answer, &j.question) {
            (Some(a), _) => write!(w, "{:<40} {verdict:<10} {a}", j.id)?,
            (None, Some(q)) => write!(w, "{:<40} {q}", j.id)?,
            (None, None) => write!(w, "{}", j.id)?,
        }
        if let Some(e) = &j.expected {
            write!(w, "  (expected: {e})")?;
        }
        writeln!(w)?;
        for c in &j.commands {
            writeln!(w, "    $ {}\n      {}", c.command, c.look_for)?;
        }
    }
    if s.judged > 0 {
        writeln!(w, "\nScore: {}/{}", s.right, s.judged)?;
    }
    Ok(())
}

/// One session: each question, the user's answer from `input`, the verdict and the commands
/// that find it. `?` shows the first command (and `hint` shows it before every question).
/// Returns (right, asked).
pub fn interactive(
    questions: &[Question],
    hint: bool,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> io::Result<(usize, usize)> {
    let (mut right, mut asked, mut hinted) = (0, 0, 0);
    writeln!(
        out,
        "{} questions. Answer each, '?' for a hint, an empty line to skip.",
        questions.len()
    )?;
    let show_hint = |q: &Question, out: &mut dyn Write| -> io::Result<()> {
        match q.steps.first() {
            Some(s) => writeln!(out, "  hint: $ {}\n        {}", s.command, s.look_for),
            None => writeln!(out, "  hint: none for this question"),
        }
    };
    'questions: for (i, q) in questions.iter().enumerate() {
        writeln!(
            out,
            "\n[{}/{}] {} ({})",
            i + 1,
            questions.len(),
            q.text,
            q.id
        )?;
        let mut used_hint = false;
        if hint {
            show_hint(q, out)?;
            used_hint = true;
        }
        let answer = loop {
            write!(out, "> ")?;
            out.flush()?;
            let mut line = String::new();
            if input.read_line(&mut line)? == 0 {
                writeln!(out)?;
                break 'questions;
            }
            if line.trim() == "?" {
                if !used_hint {
                    show_hint(q, out)?;
                    used_hint = true;
                } else {
                    writeln!(out, "  (the hint is above)")?;
                }
                continue;
            }
            break line;
        };
        asked += 1;
        hinted += usize::from(used_hint);
        match q.expected.judge(&answer) {
            Verdict::Right => {
                right += 1;
                writeln!(out, "Right: {}", q.expected.display())?;
            }
            Verdict::Unanswered => writeln!(out, "Skipped. The answer: {}", q.expected.display())?,
            _ => writeln!(out, "Wrong. The answer: {}", q.expected.display())?,
        }
        if !q.steps.is_empty() {
            writeln!(out, "How to find it:")?;
            for s in &q.steps {
                writeln!(out, "  $ {}\n    {}", s.command, s.look_for)?;
            }
        }
    }
    writeln!(out, "\nScore: {right}/{asked} right ({hinted} with a hint)")?;
    out.flush()?;
    Ok((right, asked))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs_as_networks() {
        let e = Expected::Cidrs(vec!["10.244.0.0/16".parse().unwrap()]);
        for a in [
            "10.244.0.0/16",
            " 10.244.0.0 / 16 ",
            "10.244.3.7/16",
            "10.244.0.0/16,",
        ] {
            assert_eq!(e.judge(a), Verdict::Right, "{a}");
        }
        for a in [
            "10.244.0.0/24",
            "10.244.0.0",
            "junk",
            "10.244.0.0/16 10.96.0.0/12",
        ] {
            assert_eq!(e.judge(a), Verdict::Wrong, "{a}");
        }
        assert_eq!(e.judge("  "), Verdict::Unanswered);
        let dual = Expected::Cidrs(vec![
            "10.244.0.0/16".parse().unwrap(),
            "fd00:10:244::/56".parse().unwrap(),
        ]);
        assert_eq!(
            dual.judge("fd00:10:244::/56, 10.244.0.0/16"),
            Verdict::Right
        );
    }

    #[test]
    fn words_sets_and_ports() {
        assert_eq!(
            Expected::Word(vec!["iptables".into()]).judge(" IPTables "),
            Verdict::Right
        );
        assert_eq!(
            Expected::Word(vec!["static-pod".into()]).judge("static pod"),
            Verdict::Right
        );
        let n = Expected::Names(vec!["a".into(), "b".into()]);
        assert_eq!(n.judge("B a"), Verdict::Right);
        assert_eq!(n.judge("a"), Verdict::Wrong);
        assert_eq!(Expected::Names(vec![]).judge("none"), Verdict::Right);
        let e = Expected::Endpoints {
            ips: ["10.0.0.1", "10.0.0.2"]
                .map(|a| a.parse().unwrap())
                .into_iter()
                .collect(),
            ports: vec![80],
        };
        assert_eq!(e.judge("10.0.0.2:80,10.0.0.1:80"), Verdict::Right);
        assert_eq!(e.judge("10.0.0.2 10.0.0.1"), Verdict::Right);
        assert_eq!(e.judge("10.0.0.2:81,10.0.0.1:80"), Verdict::Wrong);
        assert_eq!(e.display(), "10.0.0.1:80,10.0.0.2:80");
        assert_eq!(
            Expected::Ports(vec![30007]).judge("30007/TCP"),
            Verdict::Right
        );
        assert_eq!(Expected::YesNo(false).judge("No"), Verdict::Right);
        let r = Expected::PortRange(30000, 32767);
        assert_eq!(r.judge("30000 - 32767"), Verdict::Right);
        assert_eq!(r.judge("30000-32768"), Verdict::Wrong);
        assert_eq!(r.judge("30000"), Verdict::Wrong);
        assert_eq!(r.judge("ports"), Verdict::Wrong);
    }

    #[test]
    fn seeded_order_is_repeatable() {
        let mut a: Vec<u32> = (0..20).collect();
        let mut b = a.clone();
        Rng::new(7).shuffle(&mut a);
        Rng::new(7).shuffle(&mut b);
        assert_eq!(a, b);
        assert_ne!(a, (0..20).collect::<Vec<_>>());
    }
}
