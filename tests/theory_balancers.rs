mod common;
use archsim::analytic::queueing as q;
use common::*;

fn balanced(rate: f64, n: u32, policy: &str) -> String {
    format!(
        r#"Model(
            name: "balanced {policy}",
            workload: Workload(arrival: Poisson(rate: {rate:?}), entry: "lb"),
            components: {{
                "lb": LoadBalancer(targets: ["app"], policy: {policy}),
                "app": Server(instances: {n}, workers: 1, handler: [Work(Exp(mean_ms: 1.0))]),
            }},
        )"#
    )
}

#[test]
fn zz_probe() {
    for (n, pol, dur) in [
        (100u32, "PowerOfTwoChoices", 25.0),
        (50, "PowerOfTwoChoices", 45.0),
        (100, "LeastConnections", 25.0),
        (20, "PowerOfTwoChoices", 105.0),
    ] {
        let t = std::time::Instant::now();
        let runs = replicate(&balanced(900.0 * n as f64, n, pol), 1.0, dur, 5.0, 1, 8);
        println!(
            "{pol} n={n}: lat {:?} p99 {:?} util {:?} wall {:?}",
            estimate(&values(&runs, |s| s.latency_ms.mean)),
            estimate(&values(&runs, |s| s.latency_ms.p99)),
            estimate(&values(&runs, |s| comp(s, "app").utilization)),
            t.elapsed()
        );
    }
    println!("T_inf {}", q::supermarket_mean_sojourn(0.9, 2));
    println!("MMN {}", q::mmc_mean_sojourn(90.0, 1.0, 100).unwrap());
    println!("MMN50 {}", q::mmc_mean_sojourn(45.0, 1.0, 50).unwrap());
    println!("E4 {}", q::en_m1_mean_sojourn(4, 3.2, 1.0).unwrap());
}
