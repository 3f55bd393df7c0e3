//! Pipelines (#16): `-o sarif` validated against the SARIF 2.1.0 schema (python3's jsonschema),
//! `-o junit` against Jenkins' junit-10.xsd (xmllint); both schemas ship in
//! tests/fixtures/schemas. `--only`, `--skip`, `--skip-namespace` and `netcheck checks`.

mod common;

use common::*;
use netcheck::report::{Report, Severity};
use std::path::PathBuf;
use std::process::Command;

const SCENARIOS: &[&str] = &[
    "services-broken",
    "cilium-pool-vs-service",
    "weave-default-vs-kubeadm",
    "proxy-ipvs-crashloop-129",
];

fn snap(name: &str) -> String {
    root()
        .join("tests/scenarios")
        .join(name)
        .join("cluster.json")
        .display()
        .to_string()
}

fn schema(name: &str) -> PathBuf {
    root().join("tests/fixtures/schemas").join(name)
}

fn write(name: &str, text: &str) -> PathBuf {
    let p = scratch("machine").join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Ok, or the validator's complaint.
fn sarif_valid(path: &PathBuf) -> Result<(), String> {
    let script = "import json,sys,jsonschema\n\
        s=json.load(open(sys.argv[1]));d=json.load(open(sys.argv[2]))\n\
        jsonschema.Draft4Validator(s).validate(d)";
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(schema("sarif-schema-2.1.0.json"))
        .arg(path)
        .output()
        .expect("these tests need python3 with jsonschema (.ci/run installs it)");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !err.contains("No module named 'jsonschema'"),
        "these tests need python3's jsonschema (pip install jsonschema; .ci/run installs it)"
    );
    if out.status.success() {
        Ok(())
    } else {
        Err(err)
    }
}

fn junit_valid(path: &PathBuf) -> Result<(), String> {
    let out = Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(schema("junit-10.xsd"))
        .arg(path)
        .output()
        .expect("these tests need xmllint (Debian's libxml2-utils; .ci/run installs it)");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn json_report(args: &[&str]) -> Report {
    let mut a = args.to_vec();
    a.extend(["-o", "json", "--fail-on", "never"]);
    let r = netcheck(&a);
    assert_eq!(r.code, 0, "{}", r.stderr);
    report(&r)
}

#[test]
fn sarif_is_valid_and_holds_every_finding() {
    for name in SCENARIOS {
        let s = snap(name);
        let r = netcheck(&[
            "report",
            "--snapshot",
            &s,
            "-o",
            "sarif",
            "--fail-on",
            "never",
        ]);
        assert_eq!(r.code, 0, "{name}: {}", r.stderr);
        let path = write(&format!("{name}.sarif"), &r.stdout);
        sarif_valid(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        let run = &doc["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        let results = run["results"].as_array().unwrap();
        let want = json_report(&["report", "--snapshot", &s]);
        assert_eq!(results.len(), want.findings.len(), "{name}");
        for (res, f) in results.iter().zip(&want.findings) {
            assert_eq!(res["ruleId"], f.id.as_str());
            let i = res["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[i]["id"], f.id.as_str(), "{name}: ruleIndex");
            let level = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "note",
            };
            assert_eq!(res["level"], level);
            let names: Vec<&str> = res["locations"]
                .as_array()
                .map(|l| {
                    l.iter()
                        .map(|x| x["logicalLocations"][0]["name"].as_str().unwrap())
                        .collect()
                })
                .unwrap_or_default();
            assert_eq!(names, f.subjects, "{name}: {}", f.id);
        }
        // One rule per id, each with its documentation.
        let mut ids: Vec<&str> = rules.iter().map(|x| x["id"].as_str().unwrap()).collect();
        let n = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), n, "{name}: duplicate rules");
        assert!(rules
            .iter()
            .all(|x| !x["shortDescription"]["text"].as_str().unwrap().is_empty()));
    }
    // The validator can say no: SARIF 2.0 is not 2.1.0.
    let bad = write("bad.sarif", r#"{"version": "2.0.0", "runs": []}"#);
    assert!(
        sarif_valid(&bad).is_err(),
        "the schema check accepts anything"
    );
}

#[test]
fn junit_is_valid_and_fails_at_the_threshold() {
    for name in SCENARIOS {
        let s = snap(name);
        let want = json_report(&["report", "--snapshot", &s]);
        for (fail_on, threshold) in [("error", Severity::Error), ("warning", Severity::Warning)] {
            let r = netcheck(&[
                "report",
                "--snapshot",
                &s,
                "-o",
                "junit",
                "--fail-on",
                fail_on,
            ]);
            assert!(r.code == 0 || r.code == 1, "{name}: {}", r.stderr);
            let path = write(&format!("{name}-{fail_on}.xml"), &r.stdout);
            junit_valid(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
            // A failing case per named subject (or per finding without subjects), plus one
            // for the subjects a finding counts but does not name.
            let failing: usize = want
                .findings
                .iter()
                .filter(|f| f.severity >= threshold)
                .map(|f| {
                    f.subjects.len().max(1)
                        + usize::from(f.count.is_some_and(|c| c > f.subjects.len()))
                })
                .sum();
            assert_eq!(
                r.stdout.matches("<failure ").count(),
                failing,
                "{name} --fail-on {fail_on}"
            );
            assert!(
                r.stdout
                    .contains(&format!("failures=\"{failing}\" errors=\"0\">")),
                "{name}"
            );
        }
    }
    let bad = write(
        "bad.xml",
        "<testsuites><testsuite name=\"x\"><testcase/></testsuite></testsuites>",
    );
    assert!(
        junit_valid(&bad).is_err(),
        "the schema check accepts anything"
    );
}

#[test]
fn only_skip_and_skip_namespace() {
    let s = snap("services-broken");
    let all = json_report(&["services", "--snapshot", &s]);
    assert!(all.findings.len() > 3);
    let only = json_report(&[
        "services",
        "--snapshot",
        &s,
        "--only",
        "endpoint-stale,service-external-ips",
    ]);
    let ids: Vec<&str> = only.findings.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(
        ids,
        ["endpoint-stale", "service-external-ips"]
            .iter()
            .filter(|i| all.findings.iter().any(|f| f.id == **i))
            .copied()
            .collect::<Vec<_>>()
    );
    assert_eq!(
        only.summary.errors + only.summary.warnings + only.summary.infos,
        only.findings.len()
    );
    let skip = json_report(&["services", "--snapshot", &s, "--skip", "endpoint-stale"]);
    assert_eq!(skip.findings.len(), all.findings.len() - 1);
    // Every subject of services-broken is in namespace shop.
    let none = json_report(&["services", "--snapshot", &s, "--skip-namespace", "shop"]);
    assert!(
        none.findings.iter().all(|f| f.subjects.is_empty()),
        "{:?}",
        none.findings
    );
    // Exit code follows what is left.
    let r = netcheck(&[
        "services",
        "--snapshot",
        &s,
        "--only",
        "service-target-port-undeclared",
    ]);
    assert_eq!(
        r.code, 0,
        "an info finding does not fail at the default --fail-on error"
    );
    // Unknown ids are refused, naming the known ones.
    let r = netcheck(&["report", "--snapshot", &s, "--skip", "pod-servce-overlap"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("unknown finding id(s) pod-servce-overlap"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("pod-service-overlap"), "{}", r.stderr);
}

/// `netcheck checks` lists every id the checks emit across all scenarios.
#[test]
fn checks_lists_every_emitted_id() {
    let r = netcheck(&["checks", "-o", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let listed: Vec<serde_json::Value> = serde_json::from_str(&r.stdout).unwrap();
    let ids: Vec<&str> = listed.iter().map(|x| x["id"].as_str().unwrap()).collect();
    for d in scenario_dirs() {
        let exp: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(d.join("expected.json")).unwrap())
                .unwrap();
        let cluster = d.join(exp["cluster"].as_str().unwrap_or("cluster.json"));
        for cmd in ["report", "capacity", "services"] {
            let rep = json_report(&[cmd, "--snapshot", cluster.to_str().unwrap()]);
            for f in &rep.findings {
                assert!(
                    ids.contains(&f.id.as_str()),
                    "{}: {cmd} emits {} which netcheck checks (docs/findings.md) does not list",
                    d.display(),
                    f.id
                );
            }
        }
    }
}
