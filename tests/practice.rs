//! `netcheck practice` (#21): the answers file judged on the CKA lab and on scenarios, with
//! answers written by hand from each scenario's description (not from netcheck's output), and
//! the interactive mode driven in a real terminal (tmux) as a person would use it.

mod common;
use common::{netcheck, root, scratch, Run};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

fn cka_lab() -> String {
    root().join("examples/cka-lab.json").display().to_string()
}

fn scenario(name: &str) -> String {
    root()
        .join("tests/scenarios")
        .join(name)
        .join("cluster.json")
        .display()
        .to_string()
}

fn answers_file(yaml: &str) -> PathBuf {
    let p = scratch("practice-answers").join("answers.yaml");
    std::fs::write(&p, yaml).unwrap();
    p
}

fn judge(snapshot: &str, yaml: &str, extra: &[&str]) -> Run {
    let f = answers_file(yaml);
    let mut args = vec![
        "practice",
        "--snapshot",
        snapshot,
        "--answers",
        f.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    netcheck(&args)
}

/// Exit 0, and every line of the sheet says right.
fn all_right(snapshot: &str, yaml: &str) {
    let r = judge(snapshot, yaml, &[]);
    let ids = yaml.lines().filter(|l| l.contains(':')).count();
    assert_eq!(
        r.code, 0,
        "{snapshot}: not all right\n{}{}",
        r.stdout, r.stderr
    );
    let right = r
        .stdout
        .lines()
        .filter(|l| l.split_whitespace().nth(1) == Some("right"))
        .count();
    assert_eq!(right, ids, "{}", r.stdout);
    assert!(
        r.stdout.contains(&format!("Score: {ids}/{ids}")),
        "{}",
        r.stdout
    );
}

/// The seed lab's own questions, answered as the lab notes answer them.
const CKA_LAB: &str = r#"
node-network: 10.19.9.0/24
pod-range: 10.244.0.0/16
service-range: 10.96.0.0/12
cni: weave
proxy-implementation: kube-proxy
proxy-mode: iptables
deployment:kube-proxy: daemonset/kube-proxy
deployment:weave: daemonset
missing-nodes:kube-proxy: none
missing-nodes:weave: none
in-service-range:10.112.0.0: "no"
in-service-range:10.109.214.77: "yes"
service-cluster-ip:default/my-service: 10.109.214.77
service-cluster-ip:default/kubernetes: 10.96.0.1
service-cluster-ip:kube-system/kube-dns: 10.96.0.10
service-endpoints:default/my-service: 10.244.192.1:80,10.244.192.2:80
service-endpoints:default/my-service-nodeport: [10.244.192.2, 10.244.192.1]
service-node-port:default/my-service-nodeport: 30007
service-node-port:default/my-service-lb: 31006
"#;

#[test]
fn cka_lab_answers_are_judged_right() {
    all_right(&cka_lab(), CKA_LAB);
}

#[test]
fn scenarios_answered_by_hand() {
    // kind: kindnet POD_SUBNET, kind's /16 service range, iptables set explicitly.
    all_right(
        &scenario("kind-default"),
        r#"
pod-range: 10.244.0.0/16
service-range: 10.96.0.0/16
in-service-range:10.97.0.0: no
cni: kindnet
proxy-implementation: kube-proxy
proxy-mode: iptables
deployment:kube-proxy: DaemonSet
missing-nodes:kube-proxy: none
missing-nodes:kindnet: none
service-cluster-ip:default/kubernetes: 10.96.0.1
"#,
    );
    // k3s: its defaults; kube-proxy and flannel run inside the k3s process.
    all_right(
        &scenario("k3s-default"),
        r#"
pod-range: 10.42.0.0/16
service-range: 10.43.0.0/16
in-service-range:10.44.0.0: no
cni: flannel
proxy-mode: iptables
proxy-implementation: kube-proxy
deployment:kube-proxy: embedded
service-cluster-ip:default/kubernetes: 10.43.0.1
service-cluster-ip:kube-system/kube-dns: 10.43.0.10
"#,
    );
    // Cilium replacing kube-proxy, with its 10.0.0.0/8 pool.
    all_right(
        &scenario("proxy-cilium-replacement"),
        r#"
cni: Cilium
pod-range: 10.0.0.0/8
service-range: 10.96.0.0/12
proxy-implementation: cilium
deployment:kube-proxy: replaced
deployment:cilium: DaemonSet
missing-nodes:cilium: none
"#,
    );
    // flannel kept off the tainted GPU node.
    all_right(
        &scenario("daemonset-cni-taint"),
        r#"
cni: flannel
proxy-mode: iptables
deployment:kube-proxy: DaemonSet
deployment:flannel: DaemonSet
missing-nodes:flannel: gpu-1
missing-nodes:kube-proxy: none
"#,
    );
    all_right(
        &scenario("proxy-nftables"),
        r#"
proxy-mode: NFTables
deployment:kube-proxy: daemon-set
deployment:flannel: DaemonSet
missing-nodes:flannel: none
service-range: 10.96.0.0/12
"#,
    );
}

#[test]
fn cidr_spellings_compare_as_networks() {
    for spelling in [
        "10.244.0.0/16",
        "\" 10.244.0.0 / 16 \"",
        "10.244.12.7/16",
        "10.244.0.0/16,",
    ] {
        all_right(&cka_lab(), &format!("pod-range: {spelling}\n"));
    }
    for wrong in ["10.244.0.0/24", "10.244.0.0", "10.32.0.0/12", "weave"] {
        let r = judge(&cka_lab(), &format!("pod-range: {wrong}\n"), &[]);
        assert_eq!(r.code, 1, "{wrong} judged right\n{}", r.stdout);
        assert!(r.stdout.contains("WRONG"), "{}", r.stdout);
    }
}

#[test]
fn a_wrong_answer_exits_1_and_names_it() {
    let r = judge(
        &cka_lab(),
        "pod-range: 10.244.0.0/16\nproxy-mode: ipvs\nmissing-nodes:weave: node01\n",
        &[],
    );
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let line = |id: &str| {
        r.stdout
            .lines()
            .find(|l| l.starts_with(id))
            .unwrap_or_else(|| panic!("no {id} in {}", r.stdout))
            .to_string()
    };
    assert!(line("pod-range").contains("right"));
    assert!(line("proxy-mode").contains("WRONG"));
    assert!(line("missing-nodes:weave").contains("WRONG"));
    assert!(r.stdout.contains("Score: 1/3"), "{}", r.stdout);
    // Not revealed without --reveal.
    assert!(!r.stdout.contains("iptables"), "{}", r.stdout);
    let r = judge(&cka_lab(), "proxy-mode: ipvs\n", &["--reveal"]);
    assert!(r.stdout.contains("expected: iptables"), "{}", r.stdout);
    assert!(
        r.stdout.contains("kubectl -n kube-system logs kube-proxy-"),
        "{}",
        r.stdout
    );
}

#[test]
fn an_unknown_fact_is_not_asked() {
    // kind's node network is only inferred (no host facts): no question, and an answer to it
    // is not judged right.
    let r = netcheck(&[
        "practice",
        "--snapshot",
        &scenario("kind-default"),
        "-o",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let ids: Vec<&str> = v["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["id"].as_str().unwrap())
        .collect();
    assert!(!ids.contains(&"node-network"), "{ids:?}");
    assert!(ids.contains(&"pod-range"), "{ids:?}");
    let r = judge(
        &scenario("kind-default"),
        "node-network: 172.18.0.0/16\n",
        &[],
    );
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("NOT A QUESTION"), "{}", r.stdout);
}

#[test]
fn json_reveals_expected_answers_only_when_asked() {
    let f = answers_file("pod-range: 10.244.0.0 / 16\nservice-range: 10.96.0.0/16\n");
    let args = |reveal: bool| {
        let mut a = vec![
            "practice",
            "--snapshot",
            Box::leak(cka_lab().into_boxed_str()),
            "--answers",
            Box::leak(f.display().to_string().into_boxed_str()),
            "-o",
            "json",
        ];
        if reveal {
            a.push("--reveal");
        }
        a
    };
    let r = netcheck(&args(false));
    assert_eq!(r.code, 1);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["kind"], "Practice");
    assert_eq!(v["questions"][0]["id"], "pod-range");
    assert_eq!(v["questions"][0]["verdict"], "right");
    assert_eq!(v["questions"][1]["verdict"], "wrong");
    assert!(v["questions"][0]["question"]
        .as_str()
        .unwrap()
        .contains("pod range"));
    assert!(!r.stdout.contains("expected"), "{}", r.stdout);
    assert_eq!(
        (v["right"].as_u64(), v["judged"].as_u64()),
        (Some(1), Some(2))
    );
    let r = netcheck(&args(true));
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["questions"][1]["expected"], "10.96.0.0/12");
}

fn ids(args: &[&str]) -> Vec<String> {
    let mut a = vec!["practice", "-o", "json"];
    a.extend_from_slice(args);
    let r = netcheck(&a);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    v["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn seed_topic_and_count_select_a_repeatable_set() {
    let lab = cka_lab();
    let a = ids(&["--snapshot", &lab, "--seed", "42", "--questions", "5"]);
    assert_eq!(a.len(), 5);
    assert_eq!(
        a,
        ids(&["--snapshot", &lab, "--seed", "42", "--questions", "5"])
    );
    let all = ids(&["--snapshot", &lab, "--seed", "42"]);
    assert!(all.len() > 15, "{all:?}");
    assert_eq!(a[..], all[..5]);
    assert_ne!(all, ids(&["--snapshot", &lab, "--seed", "43"]));
    let proxy = ids(&["--snapshot", &lab, "--topic", "proxy"]);
    let mut sorted = proxy.clone();
    sorted.sort();
    assert_eq!(sorted, ["proxy-implementation", "proxy-mode"]);
    for id in ids(&["--snapshot", &lab, "--topic", "services,daemonsets"]) {
        assert!(
            id.starts_with("service-")
                || id.starts_with("deployment:")
                || id.starts_with("missing-nodes:"),
            "{id}"
        );
    }
}

// ---- the interactive mode, in a real terminal ----

struct Tmux {
    socket: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("run tmux");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-J", "-S", "-", "-t", "practice"])
    }
    /// Waits until the whole pane (with its history) shows `text` `n` times.
    fn wait_for(&self, text: &str, n: usize) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if s.matches(text).count() >= n {
                return s;
            }
            if start.elapsed() > Duration::from_secs(20) {
                panic!("waited 20s for {n}x {text:?}; the terminal shows:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    fn type_line(&self, line: &str) {
        self.run(&["send-keys", "-t", "practice", "-l", line]);
        self.run(&["send-keys", "-t", "practice", "Enter"]);
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

fn require_tmux() {
    let ok = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "tmux is not installed: the interactive practice test drives a real terminal with it \
         (Debian: apt-get install tmux; .ci/run installs it)"
    );
}

/// The right answer to each cidrs question of the lab, as a person would type it: CIDRs with
/// spaces around the slash.
fn lab_answer(id: &str, spaced: bool) -> String {
    let cidr = |c: &str| {
        if spaced {
            c.replace('/', " / ")
        } else {
            c.to_string()
        }
    };
    match id {
        "node-network" => cidr("10.19.9.0/24"),
        "pod-range" => cidr("10.244.0.0/16"),
        "service-range" => cidr("10.96.0.0/12"),
        "cni" => "Weave".into(),
        "in-service-range:10.112.0.0" => "no".into(),
        "in-service-range:10.109.214.77" => "yes".into(),
        _ => panic!("no answer written for {id}"),
    }
}

fn wrong_answer(id: &str) -> &'static str {
    match id {
        "cni" => "calico",
        "in-service-range:10.112.0.0" => "yes",
        "in-service-range:10.109.214.77" => "no",
        _ => "10.0.0.0/8",
    }
}

#[test]
fn interactive_session_in_a_terminal() {
    require_tmux();
    let lab = cka_lab();
    let args = [
        "--snapshot",
        lab.as_str(),
        "--topic",
        "cidrs",
        "--seed",
        "7",
    ];
    let order = ids(&args);
    assert!(order.len() >= 5, "{order:?}");
    let cidr_questions = ["node-network", "pod-range", "service-range"];
    let n = 5;
    let order = &order[..n];
    assert!(
        order[2..]
            .iter()
            .any(|id| cidr_questions.contains(&id.as_str())),
        "{order:?}"
    );
    let t = Tmux {
        socket: format!("netcheck-practice-{}", std::process::id()),
    };
    let cmd = format!(
        "{} practice {} --questions {n}; echo EXIT=$?; sleep 60",
        env!("CARGO_BIN_EXE_netcheck"),
        args.join(" ")
    );
    t.run(&[
        "new-session",
        "-d",
        "-s",
        "practice",
        "-x",
        "220",
        "-y",
        "50",
        "sh",
        "-c",
        &cmd,
    ]);
    // (Waits are on the question counters: "> " is also in commands' texts, e.g. "<CIDR> in".)
    let first = t.wait_for(&format!("[1/{n}]"), 1);
    assert!(first.contains("--seed 7"), "{first}");
    assert!(first.contains(&format!("[1/{n}]")), "{first}");
    // A hint: the first command, with this cluster's names, and the question again.
    t.type_line("?");
    let s = t.wait_for("hint: $ ", 1);
    assert!(
        s.contains("controlplane") || s.contains("weave-net-") || s.contains("kubectl get nodes"),
        "{s}"
    );
    t.type_line(&lab_answer(&order[0], false));
    t.wait_for(&format!("[2/{n}]"), 1);
    // A wrong answer: judged, the right one and the commands shown.
    t.type_line(wrong_answer(&order[1]));
    let s = t.wait_for(&format!("[3/{n}]"), 1);
    assert!(s.contains("Wrong. The answer: "), "{s}");
    assert!(s.contains("How to find it:"), "{s}");
    // The rest right, CIDRs spelt with spaces around the slash.
    for id in &order[2..] {
        t.type_line(&lab_answer(id, true));
    }
    let s = t.wait_for("EXIT=", 1);
    assert_eq!(s.matches("Right: ").count(), n - 1, "{s}");
    assert_eq!(s.matches("Wrong. ").count(), 1, "{s}");
    assert!(
        s.contains(&format!("Score: {}/{n} right (1 with a hint)", n - 1)),
        "{s}"
    );
    assert!(s.contains("EXIT=1"), "{s}");
    // The commands after an answer use the lab's real names.
    assert!(
        s.contains("kube-apiserver-controlplane") || s.contains("ssh controlplane"),
        "{s}"
    );
}

#[test]
fn interactive_all_right_exits_0() {
    let lab = cka_lab();
    let order = ids(&["--snapshot", &lab, "--topic", "cidrs", "--seed", "1"]);
    let input: String = order.iter().map(|id| lab_answer(id, true) + "\n").collect();
    let mut child = Command::new(env!("CARGO_BIN_EXE_netcheck"))
        .args([
            "practice",
            "--snapshot",
            &lab,
            "--topic",
            "cidrs",
            "--seed",
            "1",
            "--hint",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let k = order.len();
    assert!(
        text.contains(&format!("Score: {k}/{k} right ({k} with a hint)")),
        "{text}"
    );
    assert_eq!(text.matches("hint: $ ").count(), k, "{text}");
}

/// The README's session, typed as it shows: each output line it shows (not the elided ones)
/// is what netcheck writes.
#[test]
fn readme_session_is_what_netcheck_writes() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let cmd = "$ netcheck practice --snapshot examples/cka-lab.json ";
    let start = readme.find(cmd).expect("README shows a practice session");
    let block = &readme[start..];
    let block = &block[..block.find("```").unwrap()];
    let mut lines = block.lines();
    let args: Vec<&str> = lines.next().unwrap()[2..]
        .split_whitespace()
        .skip(1)
        .collect();
    let (mut input, mut shown) = (String::new(), Vec::new());
    for l in lines {
        match l.strip_prefix("> ") {
            Some(typed) => input += &format!("{typed}\n"),
            None if l.trim() == "..." || l.trim().is_empty() => {}
            None => shown.push(l),
        }
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_netcheck"))
        .current_dir(root())
        .args(&args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for l in shown {
        assert!(text.contains(l), "README line {l:?} not in:\n{text}");
    }
    assert_eq!(out.status.code(), Some(1), "{text}");
}

/// Live: the lab served by the test API server. Without the host's interface facts the node
/// network is only inferred, so it is not asked; the rest is judged as on the snapshot.
#[test]
fn live_cluster_is_practised_on_too() {
    let server = netcheck_testkit::ApiServer::start(
        common::load(&root().join("examples/cka-lab.json")),
        netcheck_testkit::Options::default(),
    )
    .unwrap();
    let kc = scratch("practice-live").join("kubeconfig");
    server.write_kubeconfig(&kc).unwrap();
    let kc = kc.display().to_string();
    let live = ids(&["--kubeconfig", &kc]);
    assert!(!live.iter().any(|i| i == "node-network"), "{live:?}");
    let f = answers_file(
        "pod-range: 10.244.0.0/16\nservice-range: 10.96.0.0/12\nproxy-mode: iptables\n\
         service-endpoints:default/my-service: 10.244.192.1:80,10.244.192.2:80\n",
    );
    let r = netcheck(&[
        "practice",
        "--kubeconfig",
        &kc,
        "--answers",
        f.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("Score: 4/4"), "{}", r.stdout);
}

#[test]
fn proxy_and_range_scenarios_answered_by_hand() {
    // Configured ipvs, fallen back: the mode kube-proxy uses is the one it runs.
    all_right(
        &scenario("proxy-120-ipvs-fallback"),
        "proxy-mode: iptables\ndeployment:kube-proxy: DaemonSet\nmissing-nodes:kube-proxy: none\n\
         missing-nodes:flannel: none\ncni: flannel\n",
    );
    let r = judge(
        &scenario("proxy-120-ipvs-fallback"),
        "proxy-mode: ipvs\n",
        &[],
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    // worker1's kube-proxy crash-loops on ipvs; cp1 runs ipvs.
    all_right(
        &scenario("proxy-ipvs-crashloop-129"),
        "proxy-mode: IPVS\nmissing-nodes:kube-proxy: worker1\nmissing-nodes:flannel: none\n",
    );
    // Two modes run at once: no single answer, no question.
    let mixed = ids(&["--snapshot", &scenario("proxy-mixed-modes")]);
    assert!(!mixed.iter().any(|i| i == "proxy-mode"), "{mixed:?}");
    // The shrunk range: two old ClusterIPs outside it, the others inside.
    all_right(
        &scenario("service-range-shrunk"),
        "service-range: 10.96.0.0/16\npod-range: 10.244.0.0/16\n\
         in-service-range:10.100.12.7: no\nin-service-range:10.108.200.33: out\n\
         in-service-range:10.97.0.0: no\n\
         service-cluster-ip:legacy/billing: 10.100.12.7\nservice-cluster-ip:default/kubernetes: 10.96.0.1\n",
    );
    all_right(
        &scenario("minikube-flannel"),
        "pod-range: 10.244.0.0/16\nservice-range: 10.96.0.0/12\ncni: flannel\n\
         in-service-range:10.109.214.77: yes\nservice-cluster-ip:default/my-service: 10.109.214.77\n",
    );
}
