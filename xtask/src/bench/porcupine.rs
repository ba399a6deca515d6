//! The linearizability checker on porcupine's 108 histories (`../shared/testdata/porcupine`):
//! the time of each check and the total. Parsing is done once, outside the timed part.

use super::report::Row;
use super::timing::median;
use super::Plan;
use serde_json::{json, Value};
use sim::linearizability::porcupine_suite::{
    data_dir, JEPSEN_EMPTY, JEPSEN_FILES, JEPSEN_LINEARIZABLE, KV_FILES,
};
use sim::linearizability::{
    check, parse_jepsen_etcd_log, parse_porcupine_kv, CheckOptions, KvModel, RegisterModel, Verdict,
};
use std::path::PathBuf;
use std::time::Instant;

/// A parsed history ready to check.
enum History {
    Register(
        Vec<
            sim::linearizability::Operation<
                sim::linearizability::RegisterInput,
                sim::linearizability::RegisterOutput,
            >,
        >,
    ),
    Kv(
        Vec<
            sim::linearizability::Operation<
                sim::linearizability::KvInput,
                sim::linearizability::KvOutput,
            >,
        >,
    ),
}

struct File {
    name: String,
    history: History,
    expected: bool,
}

impl File {
    fn ops(&self) -> usize {
        match &self.history {
            History::Register(h) => h.len(),
            History::Kv(h) => h.len(),
        }
    }
    fn check(&self) -> Verdict {
        let options = CheckOptions::default();
        match &self.history {
            History::Register(h) => check(&RegisterModel::new(None), h, &options),
            History::Kv(h) => check(&KvModel::with_initial(""), h, &options),
        }
    }
}

fn load() -> Result<Vec<File>, String> {
    let dir = data_dir();
    let read = |path: PathBuf| {
        std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))
    };
    let mut files = Vec::new();
    for n in 0..JEPSEN_FILES {
        if n == JEPSEN_EMPTY {
            continue;
        }
        let text = read(dir.join(format!("jepsen/etcd_{n:03}.log")))?;
        let history = parse_jepsen_etcd_log(&text).map_err(|e| format!("etcd_{n:03}: {e}"))?;
        files.push(File {
            name: format!("jepsen/etcd_{n:03}"),
            history: History::Register(history),
            expected: JEPSEN_LINEARIZABLE.contains(&n),
        });
    }
    for (name, expected) in KV_FILES {
        let text = read(dir.join(format!("kv/{name}.txt")))?;
        let history = parse_porcupine_kv(&text).map_err(|e| format!("kv/{name}: {e}"))?;
        files.push(File {
            name: format!("kv/{name}"),
            history: History::Kv(history),
            expected,
        });
    }
    Ok(files)
}

pub(super) fn rows(plan: &Plan, rows: &mut Vec<Row>, details: &mut serde_json::Map<String, Value>) {
    let files = match load() {
        Ok(files) => files,
        Err(e) => {
            rows.push(
                Row::new("porcupine", "all 108 verdicts: total", f64::NAN, "s")
                    .note(format!("not run: {e}")),
            );
            return;
        }
    };
    let verdicts = files.len();
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); files.len()];
    let mut totals = Vec::new();
    let mut wrong = Vec::new();
    for rep in 0..plan.reps.min(3) {
        let started = Instant::now();
        for (i, file) in files.iter().enumerate() {
            let t = Instant::now();
            let verdict = file.check();
            times[i].push(t.elapsed().as_secs_f64());
            let ok = match verdict {
                Verdict::Linearizable => file.expected,
                Verdict::NotLinearizable(_) => !file.expected,
                Verdict::Unknown { .. } => false,
            };
            if !ok && rep == 0 {
                wrong.push(file.name.clone());
            }
        }
        totals.push(started.elapsed().as_secs_f64());
    }
    let total = median(totals);
    let per_file: Vec<(String, usize, f64)> = files
        .iter()
        .zip(&times)
        .map(|(f, t)| (f.name.clone(), f.ops(), median(t.clone())))
        .collect();
    let mut slowest = per_file.clone();
    slowest.sort_by(|a, b| b.2.total_cmp(&a.2));
    let jepsen: Vec<f64> = per_file
        .iter()
        .filter(|f| f.0.starts_with("jepsen"))
        .map(|f| f.2)
        .collect();
    rows.push(
        Row::new(
            "porcupine",
            format!("all {verdicts} verdicts: total check time"),
            total,
            "s",
        )
        .target("< 30 s, all correct", total < 30.0 && wrong.is_empty())
        .note(if wrong.is_empty() {
            format!("{verdicts}/{verdicts} verdicts as expected")
        } else {
            format!("WRONG verdicts: {}", wrong.join(", "))
        }),
    );
    rows.push(
        Row::new(
            "porcupine",
            "jepsen etcd (102 files): median per file",
            median(jepsen.clone()) * 1e3,
            "ms",
        )
        .note(format!(
            "max {:.1} ms",
            jepsen.iter().copied().fold(0.0, f64::max) * 1e3
        )),
    );
    for (name, _) in KV_FILES {
        let name = format!("kv/{name}");
        if let Some(f) = per_file.iter().find(|f| f.0 == name) {
            rows.push(Row::new(
                "porcupine",
                format!("{name} ({} ops)", f.1),
                f.2 * 1e3,
                "ms",
            ));
        }
    }
    let top: Vec<String> = slowest
        .iter()
        .take(3)
        .map(|f| format!("{} {:.0} ms", f.0, f.2 * 1e3))
        .collect();
    rows.push(
        Row::new("porcupine", "slowest files", slowest[0].2 * 1e3, "ms").note(top.join(", ")),
    );
    details.insert(
        "porcupine".into(),
        json!({
            "total_s": total,
            "wrong_verdicts": wrong,
            "files": per_file.iter().map(|(name, ops, s)| json!({ "file": name, "ops": ops, "check_ms": s * 1e3 })).collect::<Vec<_>>(),
        }),
    );
}
