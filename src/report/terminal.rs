//! The readable summary `archsim run` prints.

use crate::stats::summary::RunSummary;
use std::fmt::Write as _;

fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

fn ms(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0} ms")
    } else if x >= 10.0 {
        format!("{x:.1} ms")
    } else {
        format!("{x:.2} ms")
    }
}

/// Left-aligned first column, right-aligned others.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut width: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            width[i] = width[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: &[String]| {
        for (i, c) in cells.iter().enumerate() {
            let pad = width[i] - c.chars().count();
            if i == 0 {
                let _ = write!(out, "  {c}{}", " ".repeat(pad));
            } else {
                let _ = write!(out, "  {}{c}", " ".repeat(pad));
            }
        }
        out.push('\n');
    };
    line(
        &mut out,
        &header.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
    );
    let rule: Vec<String> = width.iter().map(|w| "─".repeat(*w)).collect();
    line(&mut out, &rule);
    for r in rows {
        line(&mut out, r);
    }
    out
}

pub fn summary(s: &RunSummary) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", s.model);
    let _ = writeln!(
        out,
        "traffic {}x · offered {:.1} req/s · {} s simulated ({} s warm-up) · seed {} · {} replication{}",
        s.traffic,
        s.offered_rps,
        s.duration_s,
        s.warmup_s,
        s.seed,
        s.replications,
        if s.replications == 1 { "" } else { "s" }
    );
    let ci = |v: Option<f64>| v.map(|h| format!(" ± {h:.2}")).unwrap_or_default();
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "throughput  {:.1} req/s{}   errors {} (dropped {}, failed {}, timed out {})",
        s.throughput_rps,
        ci(s.ci95.throughput_rps),
        pct(s.error_rate),
        s.requests.dropped.0,
        s.requests.failed.0,
        s.requests.timed_out.0
    );
    let l = &s.latency_ms;
    let _ = writeln!(
        out,
        "latency     mean {}{}  p50 {}  p90 {}  p95 {}  p99 {}  p99.9 {}  max {}",
        ms(l.mean),
        ci(s.ci95.latency_ms_mean),
        ms(l.p50),
        ms(l.p90),
        ms(l.p95),
        ms(l.p99),
        ms(l.p999),
        ms(l.max)
    );
    let _ = writeln!(out);
    let rows: Vec<Vec<String>> = s
        .components
        .0
        .iter()
        .map(|(name, c)| {
            let mut extra = Vec::new();
            if let Some(h) = c.hit_ratio {
                extra.push(format!("hit ratio {}", pct(h)));
            }
            if let Some(st) = c.stale_read_ratio {
                extra.push(format!("stale reads {}", pct(st)));
            }
            if let Some(t) = &c.task_latency_ms {
                extra.push(format!("task p99 {}", ms(t.p99)));
            }
            if let Some(b) = c.backlog {
                extra.push(format!("backlog {}", b.0));
            }
            if c.failed.0 > 0.0 {
                extra.push(format!("failed {}", c.failed.0));
            }
            vec![
                if *name == s.bottleneck {
                    format!("{name} ◀ bottleneck")
                } else {
                    name.clone()
                },
                c.kind.clone(),
                match c.workers {
                    Some(w) if c.instances > 1 => format!("{}×{w}", c.instances),
                    Some(w) => w.to_string(),
                    None => "∞".into(),
                },
                pct(c.utilization),
                format!("{:.1}", c.throughput_rps),
                ms(c.mean_wait_ms),
                format!("{:.2}", c.mean_queue_len),
                format!("{}", c.dropped.0),
                extra.join(", "),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "component",
            "kind",
            "workers",
            "util",
            "req/s",
            "wait",
            "queue",
            "dropped",
            "",
        ],
        &rows,
    ));
    if s.classes.0.len() > 1 {
        let _ = writeln!(out);
        let rows: Vec<Vec<String>> = s
            .classes
            .0
            .iter()
            .map(|(n, c)| {
                vec![
                    n.clone(),
                    format!("{:.1}", c.throughput_rps),
                    ms(c.latency_ms.mean),
                    ms(c.latency_ms.p99),
                ]
            })
            .collect();
        out.push_str(&table(&["class", "req/s", "mean", "p99"], &rows));
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "bottleneck: {}", s.bottleneck);
    for w in &s.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    let _ = writeln!(
        out,
        "engine: {} events in {:.3} s ({:.1} M events/s)",
        s.engine.events,
        s.engine.wall_s,
        s.engine.events as f64 / s.engine.wall_s.max(1e-9) / 1e6
    );
    out
}

pub fn explanation(ex: &crate::analytic::explain::Explanation) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} — analytic bounds beside a simulation at {}x",
        ex.model, ex.traffic
    );
    if let Some(r) = ex.offered_rps {
        let _ = writeln!(out, "offered {r:.1} req/s");
    }
    let _ = writeln!(out);
    let opt = |x: Option<f64>, f: &dyn Fn(f64) -> String| x.map(f).unwrap_or_else(|| "–".into());
    let rows: Vec<Vec<String>> = ex
        .components
        .0
        .iter()
        .map(|(n, b)| {
            vec![
                if *n == ex.bottleneck {
                    format!("{n} ◀ saturates first")
                } else {
                    n.clone()
                },
                b.kind.clone(),
                format!("{:.2}", b.visits),
                format!("{:.2}", b.demand_ms),
                opt(b.capacity, &|c| format!("{c}")),
                pct(b.analytic_utilization),
                opt(b.utilization, &pct),
                opt(b.utilization_difference, &|d| format!("{:+.1}", 100.0 * d)),
                opt(b.saturation_traffic, &|t| format!("{t:.2}x")),
                opt(b.mmc_wait_ms, &ms),
                opt(b.mean_wait_ms, &ms),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "component",
            "kind",
            "visits",
            "demand ms",
            "workers",
            "util (law)",
            "util (sim)",
            "diff pts",
            "saturates",
            "wait M/M/c",
            "wait (sim)",
        ],
        &rows,
    ));
    let _ = writeln!(out);
    for s in &ex.sentences {
        let _ = writeln!(out, "{s}");
    }
    let _ = writeln!(out);
    for a in &ex.assumptions {
        let _ = writeln!(out, "note: {a}");
    }
    out
}
