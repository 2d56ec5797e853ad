//! The HTML report: one self-contained file (charts inlined as PNG data URIs, CSS inline, no
//! JavaScript, no fonts or anything else fetched), readable on a phone, at 1280 px and on paper.
//!
//! It opens with the answer (each series' knee, its bottleneck, and what breaks first), then, for
//! the tour, the models as a story in order, then the charts, a table per model and a note on
//! how to read it all. Every piece of text that comes from a model is escaped.

use super::charts::{self, Series, fmt_ms, fmt_traffic, trim_num};
use super::{Chart, ModelInfo, SweepOutput, timeline};
use crate::stats::summary::RunSummary;
use std::fmt::Write as _;

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Standard base64 with padding (RFC 4648).
pub fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        out.push(A[(n >> 18) as usize & 63] as char);
        out.push(A[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            A[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            A[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

const CSS: &str = r#"
:root { --ink: #1f2328; --muted: #57606a; --line: #d8dee4; --soft: #f6f8fa;
  --ok: #0a7d48; --bad: #b42318; --accent: #0072b2; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body { margin: 0; color: var(--ink); background: #fff;
  font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
    "DejaVu Sans", "Liberation Sans", sans-serif; }
main { max-width: 1080px; margin: 0 auto; padding: 28px 24px 56px; }
h1 { font-size: 2rem; line-height: 1.2; margin: 0 0 .4rem; }
h2 { font-size: 1.45rem; line-height: 1.25; margin: 2.4rem 0 .7rem; padding-bottom: .25rem;
  border-bottom: 2px solid var(--line); }
h3 { font-size: 1.2rem; line-height: 1.3; margin: 1.8rem 0 .5rem; }
p { margin: .5rem 0; }
a { color: var(--accent); }
.meta { color: var(--muted); margin-bottom: 1.2rem; }
.answer { padding-left: 1.2rem; }
.answer li { margin: .55rem 0; }
.swatch { display: inline-block; width: .85em; height: .85em; border-radius: 2px;
  margin-right: .35em; vertical-align: -.05em; print-color-adjust: exact; -webkit-print-color-adjust: exact; }
.ok { color: var(--ok); font-weight: 600; }
.bad { color: var(--bad); font-weight: 600; }
.best { background: var(--soft); border-left: 4px solid var(--ok); padding: .6rem .9rem; }
figure { margin: 1.4rem 0 2.2rem; }
figure img { display: block; width: 100%; height: auto; border: 1px solid var(--line); border-radius: 4px; }
figcaption { color: var(--muted); font-size: .95rem; margin-top: .5rem; }
figcaption strong { color: var(--ink); }
.step { border-left: 4px solid var(--accent); padding: .1rem 0 .1rem 1.1rem; margin: 2rem 0; }
.step h3 { margin-top: .3rem; }
.desc { font-size: 1.05rem; }
.notes { color: var(--muted); }
.notes p { margin: .35rem 0; }
.verdict { background: var(--soft); border-radius: 6px; padding: .7rem 1rem; margin: .8rem 0; }
.verdict p { margin: .25rem 0; }
.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; margin: .4rem 0 .6rem; }
table { border-collapse: collapse; font-size: .9rem; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding: .2rem 0 .4rem; }
th, td { padding: .32rem .6rem; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
th { background: var(--soft); font-weight: 600; vertical-align: bottom; }
td.l, th.l { text-align: left; }
tr.knee td { background: #e7f5ec; font-weight: 600; }
tr.fail td { background: #fdf0ee; }
td.hot { color: var(--bad); font-weight: 600; }
.key { color: var(--muted); font-size: .9rem; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace;
  font-size: .9em; background: var(--soft); padding: .05em .3em; border-radius: 3px; }
.how li { margin: .35rem 0; }
footer { margin-top: 3rem; color: var(--muted); font-size: .9rem; border-top: 1px solid var(--line); padding-top: .8rem; }
@media (max-width: 640px) {
  body { font-size: 15px; }
  main { padding: 16px 12px 40px; }
  h1 { font-size: 1.5rem; }
  h2 { font-size: 1.25rem; }
  .step { padding-left: .7rem; }
  th, td { padding: .28rem .45rem; }
}
@media print {
  body { font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  h2 { break-after: avoid; page-break-after: avoid; }
  h3 { break-after: avoid; page-break-after: avoid; }
  figure, .verdict, tr { break-inside: avoid; page-break-inside: avoid; }
  .scroll { overflow: visible; }
  figure img { border: none; max-width: 17cm; }
  a { color: inherit; text-decoration: none; }
  tr.knee td, tr.fail td, th { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
}
"#;

fn hex(c: plotters::style::RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

fn pct(x: f64) -> String {
    if x == 0.0 {
        "0%".into()
    } else if x < 0.001 {
        format!("{:.2}%", 100.0 * x)
    } else {
        format!("{:.1}%", 100.0 * x)
    }
}

fn rps(x: f64) -> String {
    if x >= 100.0 {
        trim_num(x, 0)
    } else {
        trim_num(x, 1)
    }
}

fn utilization(r: &RunSummary, comp: &str) -> Option<f64> {
    r.components.get(comp).map(|c| c.utilization)
}

/// "db saturated (97% busy)" or "busiest: db (80% busy)".
fn load_phrase(r: &RunSummary) -> String {
    let u = utilization(r, &r.bottleneck).unwrap_or(0.0);
    if r.bottleneck.is_empty() {
        "no component with workers".into()
    } else if u >= 0.95 {
        format!("{} saturated ({:.0}% busy)", esc(&r.bottleneck), 100.0 * u)
    } else {
        format!("busiest: {} ({:.0}% busy)", esc(&r.bottleneck), 100.0 * u)
    }
}

/// "db (89% busy)".
fn bottleneck_phrase(r: &RunSummary) -> String {
    match utilization(r, &r.bottleneck) {
        Some(u) => format!("{} ({:.0}% busy)", esc(&r.bottleneck), 100.0 * u),
        None if r.bottleneck.is_empty() => "none".into(),
        None => esc(&r.bottleneck),
    }
}

/// The knee sentence of one series, without its subject, as HTML.
struct Verdict {
    /// "holds the 500 ms p99 SLO up to 6x = 300 req/s, where …".
    holds: String,
    /// "It breaks first at 7x: …".
    breaks: String,
}

fn verdict(out: &SweepOutput, s: &Series) -> Verdict {
    let slo = trim_num(out.slo_p99_ms, 2);
    let knee = s.knee;
    let at_knee = knee.and_then(|k| k.max_traffic).and_then(|t| s.at(t));
    let failing = knee.and_then(|k| k.first_failure).and_then(|t| s.at(t));
    let reason = knee
        .and_then(|k| k.failure_reason.clone())
        .unwrap_or_else(|| "misses the SLO".into());
    let holds = match (knee.and_then(|k| k.max_traffic), at_knee) {
        (Some(t), Some(r)) => {
            // The offered rate at the knee: the traffic level the sentence names.
            let rate = r.offered_rps;
            format!(
                "<span class=\"ok\">holds the {slo} ms p99 SLO up to {} = {} req/s</span>{}, \
                 with p99 {} ms there; bottleneck there: {}",
                fmt_traffic(t),
                rps(rate),
                if failing.is_none() {
                    " (the highest traffic tested)"
                } else {
                    ""
                },
                fmt_ms(r.latency_ms.p99),
                bottleneck_phrase(r)
            )
        }
        _ => match s.points.first() {
            Some(r) => format!(
                "<span class=\"bad\">misses the {slo} ms p99 SLO already at {}</span>, the lowest traffic tested",
                fmt_traffic(r.traffic)
            ),
            None => "has no results".into(),
        },
    };
    let breaks = match failing {
        Some(r) => format!(
            "It breaks first at {}: {}; {}.",
            fmt_traffic(r.traffic),
            esc(&reason),
            load_phrase(r)
        ),
        None if at_knee.is_some() => {
            "Nothing broke: it could take more traffic than this sweep offered.".to_string()
        }
        None => String::new(),
    };
    Verdict { holds, breaks }
}

fn swatch(s: &Series) -> String {
    format!(
        "<span class=\"swatch\" style=\"background:{}\"></span>",
        hex(s.color)
    )
}

fn figure(c: &Chart) -> String {
    figure_sized(c, charts::WIDTH, charts::HEIGHT, "")
}

/// A chart inlined as a PNG of `w`×`h`, with links to its files and `more` (HTML) after them.
fn figure_sized(c: &Chart, w: u32, h: u32, more: &str) -> String {
    format!(
        "<figure id=\"chart-{stem}\">\n<img src=\"data:image/png;base64,{data}\" width=\"{w}\" height=\"{h}\" alt=\"{alt}\">\n\
         <figcaption><strong>{title}.</strong> {caption} <span class=\"key\">(Also as \
         <a href=\"{stem}.svg\">{stem}.svg</a> and <a href=\"{stem}.png\">{stem}.png</a>{more}.)</span></figcaption>\n</figure>\n",
        stem = esc(&c.stem),
        data = base64(&c.png),
        alt = esc(&format!("{}. {}", c.title, c.caption)),
        title = esc(&c.title),
        caption = esc(&c.caption),
    )
}

/// One model's timeline: (model name, file stem, the chart when it could be drawn).
type TimelineChart = (String, String, Option<Chart>);

/// The timeline figure of one model, with a link to its CSV; a paragraph with the link alone
/// when there is no chart.
fn timeline_figure((model, stem, chart): &TimelineChart) -> String {
    let csv = format!("{}.csv", esc(stem));
    match chart {
        Some(c) => figure_sized(
            c,
            timeline::WIDTH,
            timeline::HEIGHT,
            &format!("; the data, one row per interval: <a href=\"{csv}\">{csv}</a>"),
        ),
        None => format!(
            "<p>{} over time: no time series to draw; the data is in <a href=\"{csv}\">{csv}</a>.</p>\n",
            esc(model)
        ),
    }
}

/// Paragraphs of a model file's comment header: blank lines separate paragraphs, and a line
/// that starts with a short "Label:" starts a new one (the label in bold).
fn notes_html(notes: &str) -> String {
    let mut paras: Vec<String> = Vec::new();
    let mut cur = String::new();
    let flush = |cur: &mut String, paras: &mut Vec<String>| {
        if !cur.trim().is_empty() {
            paras.push(std::mem::take(cur));
        }
        cur.clear();
    };
    for line in notes.lines() {
        let line = line.trim();
        if line.is_empty() {
            flush(&mut cur, &mut paras);
            continue;
        }
        let label = line.split_once(':').filter(|(l, _)| {
            !l.is_empty()
                && l.chars().count() <= 24
                && l.chars().next().is_some_and(char::is_uppercase)
                && !l.contains(['.', '$', '`'])
        });
        if label.is_some() && !cur.is_empty() {
            flush(&mut cur, &mut paras);
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(line);
    }
    flush(&mut cur, &mut paras);
    let mut out = String::new();
    for p in paras {
        match p.split_once(':').filter(|(l, _)| {
            l.chars().count() <= 24
                && l.chars().next().is_some_and(char::is_uppercase)
                && !l.contains(['.', '$', '`'])
        }) {
            Some((l, rest)) => {
                let _ = writeln!(
                    out,
                    "<p><strong>{}:</strong>{}</p>",
                    esc(l),
                    code_spans(rest)
                );
            }
            None => {
                let _ = writeln!(out, "<p>{}</p>", code_spans(&p));
            }
        }
    }
    out
}

/// Escapes `s`, turning `backticked` words into `<code>` elements.
fn code_spans(s: &str) -> String {
    let parts: Vec<&str> = s.split('`').collect();
    if parts.len().is_multiple_of(2) {
        // Unbalanced backticks: keep them as typed.
        return esc(s);
    }
    parts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            if i % 2 == 1 {
                format!("<code>{}</code>", esc(p))
            } else {
                esc(p)
            }
        })
        .collect()
}

fn info<'a>(out: &'a SweepOutput, model: &str) -> Option<&'a ModelInfo> {
    out.models.iter().find(|m| m.name == model)
}

fn money(x: f64) -> String {
    format!("${}", trim_num(x, 2))
}

/// Model order: as given in `out.models` (for those with results), then any others by results.
fn model_order<'a>(out: &'a SweepOutput) -> Vec<&'a str> {
    let in_results = charts::model_names(out);
    let mut order: Vec<&str> = out
        .models
        .iter()
        .map(|m| m.name.as_str())
        .filter(|n| in_results.contains(n))
        .collect();
    order.dedup();
    for n in in_results {
        if !order.contains(&n) {
            order.push(n);
        }
    }
    order
}

/// The offered load at the knee, requests/s (0 when even the lowest traffic misses the SLO).
fn capacity(s: &Series) -> f64 {
    s.knee
        .and_then(|k| k.max_traffic)
        .and_then(|t| s.at(t))
        .map(|r| r.offered_rps)
        .unwrap_or(0.0)
}

fn comparison(prev: &Series, cur: &Series, prev_name: &str, out: &SweepOutput) -> String {
    let (a, b) = (capacity(prev), capacity(cur));
    let knee = |s: &Series| {
        s.knee
            .and_then(|k| k.max_traffic)
            .map(fmt_traffic)
            .unwrap_or_else(|| "none".into())
    };
    let cap = if a == 0.0 && b == 0.0 {
        "Neither this step nor the previous one meets the SLO at any traffic tested.".to_string()
    } else if a == 0.0 {
        format!(
            "It meets the SLO up to {} req/s, where the previous step met it at no traffic tested.",
            rps(b)
        )
    } else if b > a * 1.05 {
        format!(
            "It <span class=\"ok\">raises the capacity within the SLO from {} to {} req/s (×{})</span>; \
             the knee moves from {} to {}.",
            rps(a),
            rps(b),
            trim_num(b / a, 1),
            knee(prev),
            knee(cur)
        )
    } else if b < a * 0.95 {
        format!(
            "It <span class=\"bad\">lowers the capacity within the SLO from {} to {} req/s</span>; \
             the knee moves from {} to {}.",
            rps(a),
            rps(b),
            knee(prev),
            knee(cur)
        )
    } else {
        format!(
            "Its capacity within the SLO stays about the same ({} → {} req/s).",
            rps(a),
            rps(b)
        )
    };
    let bn = |s: &Series| {
        s.knee
            .map(|k| {
                k.breaks_first
                    .clone()
                    .unwrap_or_else(|| k.bottleneck.clone())
            })
            .unwrap_or_default()
    };
    let (pb, cb) = (bn(prev), bn(cur));
    let moved = if pb.is_empty() || cb.is_empty() {
        String::new()
    } else if pb == cb {
        format!(" The bottleneck is still {}.", esc(&cb))
    } else {
        format!(" The bottleneck moved from {} to {}.", esc(&pb), esc(&cb))
    };
    let cost = match (
        info(out, prev.model).and_then(|i| i.monthly_cost),
        info(out, cur.model).and_then(|i| i.monthly_cost),
    ) {
        (Some(x), Some(y)) if y > x => format!(
            " It costs {} per month more ({} → {}).",
            money(y - x),
            money(x),
            money(y)
        ),
        (Some(x), Some(y)) if y < x => format!(
            " It costs {} per month less ({} → {}).",
            money(x - y),
            money(x),
            money(y)
        ),
        (Some(_), Some(_)) => " It costs the same.".into(),
        _ => String::new(),
    };
    format!(
        "<p><strong>Compared with the previous step ({}):</strong> {cap}{moved}{cost}</p>",
        esc(prev_name)
    )
}

fn table(out: &SweepOutput, s: &Series) -> String {
    let comps: Vec<String> = s
        .points
        .first()
        .map(|r| {
            r.components
                .0
                .iter()
                .filter(|(_, c)| c.workers.is_some())
                .map(|(n, _)| n.clone())
                .collect()
        })
        .unwrap_or_default();
    let knee_t = s.knee.and_then(|k| k.max_traffic);
    let fails = |r: &RunSummary| {
        r.latency_ms.p99 > out.slo_p99_ms
            || r.error_rate > out.max_error_rate
            || r.requests.completed.0 == 0.0
    };
    let mut t = String::new();
    let _ = writeln!(t, "<div class=\"scroll\"><table>");
    if !s.parameters.is_empty() {
        let _ = writeln!(t, "<caption>{}{}</caption>", swatch(s), esc(&s.label));
    }
    let _ = write!(
        t,
        "<thead><tr><th>Traffic</th><th>Offered<br>req/s</th><th>Throughput<br>req/s</th>\
         <th>p50<br>ms</th><th>p99<br>ms</th><th>Errors</th><th class=\"l\">Bottleneck</th>"
    );
    for c in &comps {
        let _ = write!(t, "<th>{}<br>busy</th>", esc(c));
    }
    let _ = writeln!(t, "</tr></thead>\n<tbody>");
    for r in &s.points {
        let class = if Some(r.traffic) == knee_t {
            " class=\"knee\""
        } else if fails(r) {
            " class=\"fail\""
        } else {
            ""
        };
        let p99 = match r.ci95.latency_ms_p99 {
            Some(c) => format!("{} ± {}", fmt_ms(r.latency_ms.p99), fmt_ms(c)),
            None => fmt_ms(r.latency_ms.p99),
        };
        let _ = write!(
            t,
            "<tr{class}><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}{}</td><td>{}</td><td class=\"l\">{}</td>",
            fmt_traffic(r.traffic),
            rps(r.offered_rps),
            rps(r.throughput_rps),
            fmt_ms(r.latency_ms.p50),
            p99,
            if r.stable { "" } else { " †" },
            pct(r.error_rate),
            esc(&r.bottleneck)
        );
        for c in &comps {
            match utilization(r, c) {
                Some(u) => {
                    let hot = if u >= 0.95 { " class=\"hot\"" } else { "" };
                    let _ = write!(t, "<td{hot}>{:.0}%</td>", 100.0 * u);
                }
                None => t.push_str("<td>–</td>"),
            }
        }
        t.push_str("</tr>\n");
    }
    let _ = writeln!(t, "</tbody></table></div>");
    t
}

fn how_to_read(out: &SweepOutput, any_ci: bool) -> String {
    let slo = trim_num(out.slo_p99_ms, 2);
    let mut h = String::new();
    h.push_str("<ul class=\"how\">\n");
    let _ = writeln!(
        h,
        "<li><strong>Traffic</strong> is a multiple of each model's base request rate: 2x is twice \
         as many requests per second as the model file says. <strong>Offered</strong> is the \
         resulting arrival rate, <strong>throughput</strong> the requests actually completed per second.</li>"
    );
    let _ = writeln!(
        h,
        "<li><strong>p50</strong> is the median latency (half the requests are faster), \
         <strong>p99</strong> the latency that 99% of requests beat: the slow tail users notice. \
         Latency is end to end, from arrival at the entry to its response, in milliseconds.</li>"
    );
    let _ = writeln!(
        h,
        "<li>The <strong>SLO</strong> (service-level objective) here is p99 ≤ {slo} ms with at \
         most {} of requests dropped, failed or timed out. The <strong>knee</strong> is the \
         highest traffic tested that still meets it; beyond it, queues build up and latency \
         climbs steeply.</li>",
        pct(out.max_error_rate)
    );
    let _ = writeln!(
        h,
        "<li><strong>Utilization</strong> (busy) is the share of a component's workers in use, \
         averaged over time. The <strong>bottleneck</strong> is the component that limits \
         throughput: among those at least 95% busy, the one farthest down the call chain (a \
         caller blocked waiting on a saturated callee is not the cause); otherwise the busiest.</li>"
    );
    let _ = writeln!(
        h,
        "<li>In the tables, the <span class=\"ok\">green row</span> is the knee and red-tinted \
         rows miss the SLO; utilization of 95% or more is in red. † marks points where queues \
         were still growing at the end of the run: the system could not keep up, so its latency \
         there is a lower bound rather than a steady state.</li>"
    );
    if any_ci {
        let _ = writeln!(
            h,
            "<li>Each point is the mean over independent replications (different random seeds); \
             “± x” and the shaded bands are 95% confidence intervals of that mean.</li>"
        );
    }
    let _ = writeln!(
        h,
        "<li>The numbers come from a simulation: each component's service times are drawn from \
         the distributions in its model file. They show how the design behaves, not how a \
         particular machine performs.</li>"
    );
    h.push_str("</ul>\n");
    h
}

/// The whole report as one HTML5 document.
pub fn render(out: &SweepOutput, charts: &[Chart]) -> String {
    let all = charts::series(out);
    let order = model_order(out);
    let stems = charts::utilization_stems(out);
    let chart = |stem: &str| charts.iter().find(|c| c.stem == stem);
    let util_chart = |model: &str| {
        stems
            .iter()
            .find(|(m, _)| m == model)
            .and_then(|(_, s)| chart(s))
    };
    let timelines: Vec<TimelineChart> = out
        .timelines
        .iter()
        .map(|(m, tl)| (m.clone(), timeline::stem(m), timeline::chart(m, tl)))
        .collect();
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"archsim\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n",
        esc(out.title)
    );
    let _ = writeln!(h, "<h1>{}</h1>", esc(out.title));

    // What was run.
    let traffic: Vec<f64> = {
        let mut v: Vec<f64> = out.results.iter().map(|r| r.traffic).collect();
        v.sort_by(f64::total_cmp);
        v.dedup();
        v
    };
    let reps = out
        .results
        .iter()
        .map(|r| r.replications)
        .max()
        .unwrap_or(0);
    let any_ci = out.results.iter().any(|r| r.ci95.latency_ms_p99.is_some());
    let mut meta = format!(
        "{} model{}",
        order.len(),
        if order.len() == 1 { "" } else { "s" }
    );
    if all.len() > order.len() {
        let _ = write!(meta, " in {} configurations", all.len());
    }
    if let (Some(a), Some(b)) = (traffic.first(), traffic.last()) {
        let _ = write!(
            meta,
            " · traffic {}–{} ({} levels)",
            fmt_traffic(*a),
            fmt_traffic(*b),
            traffic.len()
        );
    }
    let _ = write!(
        meta,
        " · SLO: p99 ≤ {} ms and at most {} errors",
        trim_num(out.slo_p99_ms, 2),
        pct(out.max_error_rate)
    );
    if let Some(r) = out.results.first() {
        let _ = write!(
            meta,
            " · {} replication{} of {} s simulated ({} s warm-up) per point",
            reps,
            if reps == 1 { "" } else { "s" },
            trim_num(r.duration_s, 2),
            trim_num(r.warmup_s, 2)
        );
    }
    let _ = writeln!(h, "<p class=\"meta\">{}</p>", esc(&meta));

    if all.is_empty() {
        h.push_str("<p>There are no results to report.</p>\n</main>\n</body>\n</html>\n");
        return h;
    }

    // The answer.
    h.push_str("<section id=\"answer\">\n<h2>The answer</h2>\n<ul class=\"answer\">\n");
    for s in &all {
        let v = verdict(out, s);
        let step = if out.story {
            order
                .iter()
                .position(|m| *m == s.model)
                .map(|i| format!(" <a href=\"#step-{}\">(step {})</a>", i + 1, i + 1))
                .unwrap_or_default()
        } else {
            String::new()
        };
        let _ = writeln!(
            h,
            "<li>{}<strong>{}</strong> {}. {}{step}</li>",
            swatch(s),
            esc(&s.label),
            v.holds,
            v.breaks
        );
    }
    h.push_str("</ul>\n");
    if all.len() > 1 {
        let best = all
            .iter()
            .max_by(|a, b| capacity(a).total_cmp(&capacity(b)))
            .filter(|s| capacity(s) > 0.0);
        if let Some(b) = best {
            let cost = info(out, b.model)
                .and_then(|i| i.monthly_cost)
                .map(|c| format!(" at {} per month", money(c)))
                .unwrap_or_default();
            let _ = writeln!(
                h,
                "<p class=\"best\">Most traffic within the SLO: <strong>{}</strong>, {} req/s{cost}.</p>",
                esc(&b.label),
                rps(capacity(b))
            );
        } else {
            h.push_str("<p class=\"best\">No design meets the SLO at any traffic tested.</p>\n");
        }
    }
    h.push_str("</section>\n");

    // The story.
    if out.story {
        h.push_str("<section id=\"story\">\n<h2>Step by step</h2>\n");
        h.push_str(
            "<p>Each step changes the design to remove the previous step's bottleneck. \
             For each: what it is, how much traffic it holds, what limits it, and what changed.</p>\n",
        );
        let mut prev: Option<(&Series, &str)> = None;
        for (i, m) in order.iter().enumerate() {
            let mine: Vec<&Series> = all.iter().filter(|s| s.model == *m).collect();
            let _ = writeln!(
                h,
                "<section class=\"step\" id=\"step-{}\">\n<h3>Step {} of {}: {}</h3>",
                i + 1,
                i + 1,
                order.len(),
                esc(m)
            );
            if let Some(inf) = info(out, m) {
                if let Some(d) = &inf.description {
                    let _ = writeln!(h, "<p class=\"desc\">{}</p>", esc(d));
                }
                if let Some(n) = &inf.notes {
                    let _ = writeln!(h, "<div class=\"notes\">\n{}</div>", notes_html(n));
                }
            }
            h.push_str("<div class=\"verdict\">\n");
            for s in &mine {
                let v = verdict(out, s);
                let _ = writeln!(
                    h,
                    "<p>{}<strong>{}</strong> {}. {}</p>",
                    swatch(s),
                    esc(&s.label),
                    v.holds,
                    v.breaks
                );
            }
            if let Some(c) = info(out, m).and_then(|i| i.monthly_cost) {
                let _ = writeln!(h, "<p><strong>Cost:</strong> {} per month.</p>", money(c));
            }
            match (prev, mine.first()) {
                (Some((p, pname)), Some(cur)) => h.push_str(&comparison(p, cur, pname, out)),
                (None, Some(_)) => {
                    h.push_str("<p>This is the starting point the next steps improve on.</p>\n")
                }
                _ => {}
            }
            h.push_str("</div>\n");
            if let Some(c) = util_chart(m) {
                h.push_str(&figure(c));
            }
            for t in timelines.iter().filter(|t| t.0 == *m) {
                h.push_str(&timeline_figure(t));
            }
            h.push_str("</section>\n");
            if let Some(first) = mine.first() {
                prev = Some((first, m));
            }
        }
        h.push_str("</section>\n");
    }

    // The charts.
    let overall = ["latency", "throughput", "errors", "cost"];
    h.push_str(if out.story {
        "<section id=\"charts\">\n<h2>All steps side by side</h2>\n"
    } else {
        "<section id=\"charts\">\n<h2>Charts</h2>\n"
    });
    for c in charts {
        let is_overall = overall.contains(&c.stem.as_str());
        if is_overall || !out.story {
            h.push_str(&figure(c));
        }
    }
    if out.story {
        // Utilization charts of models not in the story (none, normally).
        for c in charts {
            if !overall.contains(&c.stem.as_str()) && !stems.iter().any(|(_, s)| *s == c.stem) {
                h.push_str(&figure(c));
            }
        }
    }
    h.push_str("</section>\n");

    // Over time: the timelines not already shown in the story.
    let rest: Vec<&TimelineChart> = timelines
        .iter()
        .filter(|t| !(out.story && order.contains(&t.0.as_str())))
        .collect();
    if !rest.is_empty() {
        h.push_str("<section id=\"over-time\">\n<h2>Over time</h2>\n");
        h.push_str(
            "<p>Models whose traffic changes during the run, or in which something fails, run \
             once more at 1x with a time series: what the system did second by second, through \
             the spike or the crash and after it.</p>\n",
        );
        for t in rest {
            h.push_str(&timeline_figure(t));
        }
        h.push_str("</section>\n");
    }

    // The tables.
    h.push_str("<section id=\"tables\">\n<h2>Results per model</h2>\n");
    for m in &order {
        let mine: Vec<&Series> = all.iter().filter(|s| s.model == *m).collect();
        let mark = match mine.as_slice() {
            [only] if only.parameters.is_empty() => swatch(only),
            _ => String::new(),
        };
        let _ = writeln!(h, "<h3>{mark}{}</h3>", esc(m));
        if let Some(d) = info(out, m).and_then(|i| i.description.as_ref())
            && !out.story
        {
            let _ = writeln!(h, "<p>{}</p>", esc(d));
        }
        for s in mine {
            h.push_str(&table(out, s));
        }
    }
    let _ = writeln!(
        h,
        "<p class=\"key\">Green row: the knee (highest traffic meeting the SLO). Red-tinted rows \
         miss the SLO. Utilization of 95% or more in red. † queues still growing at the end of \
         the run (not a steady state).{}</p>",
        if any_ci {
            " p99 is shown ± the half-width of its 95% confidence interval."
        } else {
            ""
        }
    );
    h.push_str("</section>\n");

    h.push_str("<section id=\"how-to-read\">\n<h2>How to read this</h2>\n");
    h.push_str(&how_to_read(out, any_ci));
    h.push_str("</section>\n");
    h.push_str(
        "<footer>Generated by archsim. The data behind this report is in the same folder: \
         <a href=\"results.csv\">results.csv</a> (one row per point), \
         <a href=\"components.csv\">components.csv</a> (one row per point and component), \
         <a href=\"results.json\">results.json</a> and <a href=\"knees.json\">knees.json</a>",
    );
    if !timelines.is_empty() {
        h.push_str("; the time series at 1x, one row per interval:");
        for (i, (_, stem, _)) in timelines.iter().enumerate() {
            let _ = write!(
                h,
                "{} <a href=\"{s}.csv\">{s}.csv</a>",
                if i == 0 { "" } else { "," },
                s = esc(stem)
            );
        }
    }
    h.push_str(".</footer>\n");
    h.push_str("</main>\n</body>\n</html>\n");
    h
}
