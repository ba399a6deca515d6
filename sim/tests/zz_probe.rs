use sim::linearizability::*;
use std::time::Instant;
#[test]
fn probe() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata/porcupine");
    for n in 0..=102 {
        if n == 95 { continue; }
        let h = parse_jepsen_etcd_log(&std::fs::read_to_string(dir.join(format!("jepsen/etcd_{n:03}.log"))).unwrap()).unwrap();
        let t = Instant::now();
        let (v, s) = check_with_stats(&RegisterModel::new(None), &h, &CheckOptions::with_max_steps(3_000_000));
        eprintln!("etcd {n:03} {:?} {:?} {:?}", match v { Verdict::Linearizable => "L", Verdict::NotLinearizable(_) => "N", _ => "?" }, s, t.elapsed());
    }
    for name in ["c01-ok","c01-bad","c10-ok","c10-bad","c50-ok","c50-bad"] {
        let h = parse_porcupine_kv(&std::fs::read_to_string(dir.join(format!("kv/{name}.txt"))).unwrap()).unwrap();
        let t = Instant::now();
        let (v, s) = check_with_stats(&KvModel::with_initial(""), &h, &CheckOptions::with_max_steps(3_000_000));
        eprintln!("kv {name} {:?} {:?} {:?}", match v { Verdict::Linearizable => "L", Verdict::NotLinearizable(_) => "N", _ => "?" }, s, t.elapsed());
    }
}
