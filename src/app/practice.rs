//! The `netcheck practice` run: collect as any command does, then ask (stdin/stdout) or judge
//! an answers file (`crate::practice` holds the questions and the judging).

use crate::cli::{self, PracticeArgs, Settings};
use crate::practice::{self, PracticeTopic};
use crate::render::Format;
use serde::Deserialize;
use std::io::Write;

/// An answer as YAML may type it: `30007` and `yes` are not strings there.
#[derive(Deserialize)]
#[serde(untagged)]
enum Answer {
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    List(Vec<Answer>),
}

impl Answer {
    fn text(&self) -> String {
        match self {
            Answer::Bool(b) => if *b { "yes" } else { "no" }.into(),
            Answer::Int(i) => i.to_string(),
            Answer::Float(f) => f.to_string(),
            Answer::Text(s) => s.clone(),
            Answer::List(v) => v.iter().map(Answer::text).collect::<Vec<_>>().join(","),
        }
    }
}

fn read_answers(path: &std::path::Path) -> Result<Vec<(String, String)>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read answers {}: {e}", path.display()))?;
    let map: Ordered = serde_saphyr::from_str(&text).map_err(|e| {
        format!(
            "{}: not a YAML map of question id to answer ({e})",
            path.display()
        )
    })?;
    Ok(map
        .0
        .into_iter()
        .map(|(k, v)| (k, v.map(|v| v.text()).unwrap_or_default()))
        .collect())
}

/// The answers in the file's order.
struct Ordered(Vec<(String, Option<Answer>)>);

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map of question id to answer")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<Ordered, A::Error> {
                let mut out = Vec::new();
                while let Some(kv) = m.next_entry()? {
                    out.push(kv);
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_map(V)
    }
}

pub fn main(s: Settings, a: PracticeArgs) -> i32 {
    if let Some(f @ (Format::Html | Format::Sarif | Format::Junit)) = a.output {
        return super::fail(&format!(
            "practice has no {f:?} output; use -o table, json or yaml"
        ));
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return super::fail(&format!("cannot start the runtime: {e}")),
    };
    let mut sigint = match super::listen_sigint(&rt) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let res = rt.block_on(async {
        tokio::select! {
            r = super::collect(&s) => Some(r),
            _ = sigint.recv() => None,
        }
    });
    rt.shutdown_background();
    let cluster = match res {
        None => {
            eprintln!("netcheck: interrupted");
            return cli::EXIT_INTERRUPTED;
        }
        Some(Err(e)) => return super::fail(&e.0),
        Some(Ok(c)) => c,
    };
    let answers = match a.answers.as_deref().map(read_answers).transpose() {
        Ok(x) => x,
        Err(e) => return super::fail(&e),
    };
    let topics: Vec<PracticeTopic> = a.topic.iter().map(|t| (*t).into()).collect();
    let all = practice::questions(&cluster, &s.hints);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if answers.is_some() || a.output.is_some() {
        // Scripts: the answers file in its order (all of its questions), or the set asked.
        let qs = match &answers {
            Some(_) => all,
            None => practice::select(
                all,
                &topics,
                a.seed.unwrap_or(0),
                a.questions.map(|n| n as usize),
            ),
        };
        let sheet = practice::judge_all(&qs, answers.as_deref(), a.reveal);
        let res = match a.output.unwrap_or(Format::Table) {
            Format::Json => serde_json::to_writer_pretty(&mut out, &sheet)
                .map_err(std::io::Error::other)
                .and_then(|_| writeln!(out)),
            Format::Yaml => serde_saphyr::to_string(&sheet)
                .map_err(std::io::Error::other)
                .and_then(|y| out.write_all(y.as_bytes())),
            // -o html, sarif and junit were refused above.
            _ => practice::write_sheet(&sheet, &mut out),
        };
        if let Err(e) = res.and_then(|_| out.flush()) {
            return super::fail(&format!("cannot write output: {e}"));
        }
        return if sheet.all_right() {
            cli::EXIT_OK
        } else {
            cli::EXIT_FINDINGS
        };
    }
    let seed = a.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64 % 1_000_000)
            .unwrap_or(1)
    });
    let qs = practice::select(all, &topics, seed, a.questions.map(|n| n as usize));
    if qs.is_empty() {
        return super::fail(
            "netcheck knows no answer to ask about on this cluster (for these topics)",
        );
    }
    let on = (cluster.source.file.clone())
        .or(cluster.source.context.clone())
        .unwrap_or(cluster.source.mode.clone());
    let _ = writeln!(
        out,
        "Practice on {on} (seed {seed}: --seed {seed} asks the same again)."
    );
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    match practice::interactive(&qs, a.hint, &mut input, &mut out) {
        Ok((right, asked)) if right == asked && asked > 0 => cli::EXIT_OK,
        Ok(_) => cli::EXIT_FINDINGS,
        Err(e) => super::fail(&format!("practice: {e}")),
    }
}
