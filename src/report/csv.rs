//! results.csv (one row per point, SPEC's columns first) and components.csv (one row per point
//! and component, long format for plotting tools).

use crate::stats::summary::RunSummary;
use std::fmt::Write as _;

/// Quotes a field when it contains a separator, a quote or a line break (RFC 4180).
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn num(x: f64) -> String {
    // Shortest representation that reads back exactly: deterministic and lossless.
    format!("{x}")
}

fn opt(x: Option<f64>) -> String {
    x.map(num).unwrap_or_default()
}

/// The names of every swept parameter, in order of first appearance.
fn parameter_names(results: &[RunSummary]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for r in results {
        for (k, _) in &r.parameters {
            if !names.contains(k) {
                names.push(k.clone());
            }
        }
    }
    names
}

fn parameter_cells(r: &RunSummary, names: &[String]) -> Vec<String> {
    names
        .iter()
        .map(|n| {
            r.parameters
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| num(*v))
                .unwrap_or_default()
        })
        .collect()
}

pub fn results(results: &[RunSummary]) -> String {
    let names = parameter_names(results);
    let mut out = String::new();
    let mut header = vec!["model".to_string(), "traffic".to_string()];
    header.extend(names.iter().map(|n| field(n)));
    header.extend(
        [
            "offered_rps",
            "throughput_rps",
            "latency_mean_ms",
            "latency_p50_ms",
            "latency_p90_ms",
            "latency_p95_ms",
            "latency_p99_ms",
            "latency_p999_ms",
            "latency_max_ms",
            "error_rate",
            "bottleneck",
            "arrived",
            "completed",
            "dropped",
            "failed",
            "timed_out",
            "stable",
            "replications",
            "ci95_latency_mean_ms",
            "ci95_latency_p99_ms",
            "ci95_throughput_rps",
        ]
        .map(String::from),
    );
    let _ = writeln!(out, "{}", header.join(","));
    for r in results {
        let mut row = vec![field(&r.model), num(r.traffic)];
        row.extend(parameter_cells(r, &names));
        let l = &r.latency_ms;
        row.extend([
            num(r.offered_rps),
            num(r.throughput_rps),
            num(l.mean),
            num(l.p50),
            num(l.p90),
            num(l.p95),
            num(l.p99),
            num(l.p999),
            num(l.max),
            num(r.error_rate),
            field(&r.bottleneck),
            num(r.requests.arrived.0),
            num(r.requests.completed.0),
            num(r.requests.dropped.0),
            num(r.requests.failed.0),
            num(r.requests.timed_out.0),
            r.stable.to_string(),
            r.replications.to_string(),
            opt(r.ci95.latency_ms_mean),
            opt(r.ci95.latency_ms_p99),
            opt(r.ci95.throughput_rps),
        ]);
        let _ = writeln!(out, "{}", row.join(","));
    }
    out
}

pub fn components(results: &[RunSummary]) -> String {
    let names = parameter_names(results);
    let mut out = String::new();
    let mut header = vec!["model".to_string(), "traffic".to_string()];
    header.extend(names.iter().map(|n| field(n)));
    header.extend(
        [
            "component",
            "kind",
            "utilization",
            "throughput_rps",
            "mean_wait_ms",
            "mean_queue_len",
            "dropped",
            "failed",
            "hit_ratio",
            "stale_read_ratio",
            "backlog",
        ]
        .map(String::from),
    );
    let _ = writeln!(out, "{}", header.join(","));
    for r in results {
        for (name, c) in &r.components.0 {
            let mut row = vec![field(&r.model), num(r.traffic)];
            row.extend(parameter_cells(r, &names));
            row.extend([
                field(name),
                c.kind.clone(),
                num(c.utilization),
                num(c.throughput_rps),
                num(c.mean_wait_ms),
                num(c.mean_queue_len),
                num(c.dropped.0),
                num(c.failed.0),
                opt(c.hit_ratio),
                opt(c.stale_read_ratio),
                opt(c.backlog.map(|b| b.0)),
            ]);
            let _ = writeln!(out, "{}", row.join(","));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a, b"), "\"a, b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
