use sim::linearizability::*;
use std::time::Instant;
#[test]
fn probe2() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata/porcupine");
    for name in ["c50-ok","c50-bad"] {
        let h = parse_porcupine_kv(&std::fs::read_to_string(dir.join(format!("kv/{name}.txt"))).unwrap()).unwrap();
        let m = KvModel::with_initial("");
        for p in m.partitions(&h) {
            let sub: Vec<_> = p.ops.iter().map(|&i| h[i].clone()).collect();
            let kinds = sub.iter().fold([0;4], |mut a, o| { a[match o.input { KvInput::Get{..}=>0, KvInput::Put{..}=>1, KvInput::Append{..}=>2, _=>3}] += 1; a });
            let t = Instant::now();
            let (v, s) = check_with_stats(&KvModel::with_initial(""), &sub, &CheckOptions::with_max_steps(5_000_000));
            eprintln!("kv {name} key {} {:?} {:?} steps {} cache {} {:?}", p.label, kinds, match v { Verdict::Linearizable => "L", Verdict::NotLinearizable(_) => "N", _ => "?" }, s.steps, s.cache_entries, t.elapsed());
        }
    }
}
