mod common;
use common::*;

#[test]
fn probe() {
    let m = r#"Model(name: "mm1", workload: Workload(arrival: Poisson(rate: 800.0), entry: "s"),
      components: { "s": Server(workers: 1, handler: [Work(Exp(mean_ms: 1.0))]) })"#;
    let t = std::time::Instant::now();
    let s = run(m, 1.0, 250.0, 5.0, 1, 1);
    println!("{:?} wall {:?}", s.latency_ms, t.elapsed());
    println!("{}", serde_json::to_string_pretty(&s).unwrap());
}
