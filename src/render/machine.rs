//! For pipelines: SARIF 2.1.0 (code-scanning dashboards) and JUnit XML (CI test reports).
//! Both carry the rules of docs/findings.md (`checks::catalog`).

use crate::checks::catalog::{self, Rule};
use crate::report::{Finding, Report, Severity};
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::io::{self, Write};

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// The rules of the report's command (all of them for `report`).
fn rules_for(command: &str) -> Vec<&'static Rule> {
    catalog::rules()
        .iter()
        .filter(|r| match command {
            "report" => !matches!(r.command, "rules" | "fleet"),
            "trace" => r.command == "rules",
            c => r.command == c,
        })
        .collect()
}

/// SARIF 2.1.0: one rule per finding id with its documentation, one result per finding with
/// its subjects as logical locations.
pub fn sarif(r: &Report, w: &mut dyn Write) -> io::Result<()> {
    let mut rules = rules_for(&r.command);
    // A finding of another command's id (none expected) still gets its rule.
    for f in &r.findings {
        if !rules.iter().any(|x| x.id == f.id) {
            if let Some(x) = catalog::rules().iter().find(|x| x.id == f.id) {
                rules.push(x);
            }
        }
    }
    let rule_json: Vec<Value> = rules
        .iter()
        .map(|x| {
            json!({
                "id": x.id,
                "name": x.id,
                "shortDescription": {"text": x.when},
                "fullDescription": {"text": format!("{} (severity: {})", x.when, x.severity_text)},
                "help": {"text": if x.help.is_empty() { x.when.clone() } else { x.help.clone() }},
                "defaultConfiguration": {"level": level(x.severity)},
                "properties": {"command": x.command, "needs": x.needs},
            })
        })
        .collect();
    let results: Vec<Value> = r
        .findings
        .iter()
        .map(|f| {
            let mut res = json!({
                "ruleId": f.id,
                "level": level(f.severity),
                "message": {"text": format!("{} Hint: {}", f.message, f.hint)},
                "properties": {"evidence": f.evidence, "ranges": f.ranges, "count": f.count},
            });
            if let Some(i) = rules.iter().position(|x| x.id == f.id) {
                res["ruleIndex"] = json!(i);
            }
            if !f.subjects.is_empty() {
                res["locations"] = f
                    .subjects
                    .iter()
                    .map(|s| json!({"logicalLocations": [{"name": s, "kind": "resource"}]}))
                    .collect();
            }
            res
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "netcheck",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rule_json,
            }},
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": r.skipped.iter().map(|s| json!({
                    "level": "warning",
                    "message": {"text": format!("skipped {}: {}", s.what, s.reason)},
                })).collect::<Vec<_>>(),
            }],
            "results": results,
        }],
    });
    serde_json::to_writer_pretty(&mut *w, &doc)?;
    writeln!(w)
}

fn xml(s: &str) -> String {
    s.chars()
        .filter(|c| matches!(c, '\t' | '\n' | '\r') || *c >= ' ')
        .collect::<String>()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// JUnit XML: a test suite per check (finding id) of the command, a test case per subject
/// (or one for the check when it found nothing or names no subject); findings at or above
/// `fail_on` are failures, those below pass with the finding in system-out.
pub fn junit(r: &Report, fail_on: Option<Severity>, w: &mut dyn Write) -> io::Result<()> {
    let fails = |f: &Finding| fail_on.is_some_and(|t| f.severity >= t);
    let mut suites = String::new();
    let (mut tests, mut failures) = (0usize, 0usize);
    for rule in rules_for(&r.command) {
        let found: Vec<&Finding> = r.findings.iter().filter(|f| f.id == rule.id).collect();
        let mut cases = String::new();
        let (mut n, mut failed) = (0usize, 0usize);
        let mut case = |name: &str, f: Option<&Finding>| {
            n += 1;
            let _ = write!(
                cases,
                r#"    <testcase name="{}" classname="netcheck.{}">"#,
                xml(name),
                xml(&rule.id)
            );
            match f {
                Some(f) if fails(f) => {
                    failed += 1;
                    let _ = write!(
                        cases,
                        r#"<failure type="{}" message="{}">{}</failure>"#,
                        level(f.severity),
                        xml(&f.message),
                        xml(&format!(
                            "{}\nevidence: {}\nhint: {}",
                            f.message,
                            f.evidence.join("; "),
                            f.hint
                        ))
                    );
                }
                Some(f) => {
                    let _ = write!(
                        cases,
                        "<system-out>{} below --fail-on: {}</system-out>",
                        level(f.severity),
                        xml(&f.message)
                    );
                }
                None => {}
            }
            cases.push_str("</testcase>\n");
        };
        if found.is_empty() {
            case("no finding", None);
        }
        for f in &found {
            if f.subjects.is_empty() {
                case(&f.message, Some(f));
            }
            for s in &f.subjects {
                case(s, Some(f));
            }
            if let Some(more) = f.count.filter(|c| *c > f.subjects.len()) {
                case(
                    &format!("{} more not named", more - f.subjects.len()),
                    Some(f),
                );
            }
        }
        tests += n;
        failures += failed;
        let _ = write!(
            suites,
            "  <testsuite name=\"{}\" tests=\"{n}\" failures=\"{failed}\" errors=\"0\" skipped=\"0\">\n{cases}  </testsuite>\n",
            xml(&rule.id)
        );
    }
    write!(
        w,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"netcheck {}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\">\n{suites}</testsuites>\n",
        xml(&r.command)
    )
}
