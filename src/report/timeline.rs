//! The timeline chart of one run: what happened second by second, for models whose traffic
//! changes over time or that fail.
//!
//! One figure of three stacked panels sharing the time axis (seconds since the start of the
//! run, warm-up included):
//! - requests per second: the rate the profile offers (dashed), the requests served (goodput),
//!   errors and, of those, timeouts;
//! - latency p50 and p99 of the requests served (log scale when it spans decades);
//! - utilization of every component that does work, with the share of its instances up (dotted)
//!   where some were down.
//!
//! Every event (end of warm-up, crash, recovery) is a vertical line labelled above the panels;
//! the warm-up is shaded grey and each traffic surge read from the offered rate amber. Where
//! goodput falls under half of the offered rate the gap between the two is filled red and
//! labelled "collapsed", and the subtitle says in words when the collapse began and whether
//! (and when) the system recovered, from the data alone.
//!
//! Like the other charts (see charts.rs) the figure is described first and then drawn by one
//! routine onto both the SVG and the bitmap backend, with the bundled font: the same timeline
//! gives byte-identical files.

use super::Chart;
use super::charts::{
    INK, LIMIT, MUTED, color, decimals_for, fit, fmt_ms, nice_step, png, register_fonts, style,
    text_size, trim_num, wrap,
};
use crate::stats::timeline::Timeline;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

pub const WIDTH: u32 = 1000;
pub const HEIGHT: u32 = 800;

/// A file-name-safe form of a model name.
pub fn slug(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let parts: Vec<&str> = s.split('-').filter(|p| !p.is_empty()).collect();
    if parts.is_empty() {
        "model".into()
    } else {
        parts.join("-")
    }
}

/// The stem of a model's timeline files: `timeline-<slug>`.
pub fn stem(model: &str) -> String {
    format!("timeline-{}", slug(model))
}

/// (file name, bytes) of the timeline chart files: `timeline-<slug>.svg` and `.png`. Nothing
/// when the timeline has no points or cannot be drawn.
pub fn render(model: &str, tl: &Timeline) -> Vec<(String, Vec<u8>)> {
    match chart(model, tl) {
        Some(c) => vec![
            (format!("{}.svg", c.stem), c.svg.into_bytes()),
            (format!("{}.png", c.stem), c.png),
        ],
        None => Vec::new(),
    }
}

/// The timeline chart in memory, with the title and caption the report shows beside it.
pub fn chart(model: &str, tl: &Timeline) -> Option<Chart> {
    if tl.points.is_empty() || !(tl.interval_s.is_finite() && tl.interval_s > 0.0) {
        return None;
    }
    let a = analyse(tl);
    let fig = figure(model, tl, &a);
    let stem = stem(model);
    register_fonts();
    let mut svg = String::new();
    let drawn = (|| -> Result<(), String> {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        draw(&root, &fig)?;
        root.present().map_err(|e| e.to_string())
    })();
    let mut rgb = vec![0u8; WIDTH as usize * HEIGHT as usize * 3];
    let drawn = drawn.and_then(|()| {
        let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
        draw(&root, &fig)?;
        root.present().map_err(|e| e.to_string())
    });
    if let Err(e) = drawn {
        eprintln!("archsim: could not draw the `{stem}` chart: {e}");
        return None;
    }
    Some(Chart {
        stem,
        title: fig.title.clone(),
        caption: caption(tl, &a),
        svg,
        png: png::encode_rgb(&rgb, WIDTH, HEIGHT),
    })
}

// ---------------------------------------------------------------------------------------------
// Reading the timeline: surges, collapses, outages, and a sentence saying what happened.

/// Goodput under this share of the offered rate counts as collapsed.
const COLLAPSED: f64 = 0.5;
/// ... and stays collapsed until goodput is back above this share.
const RECOVERED: f64 = 0.75;
/// Offered traffic at least this multiple of its starting rate counts as a surge.
const SURGE: f64 = 1.5;

const WARMUP: RGBColor = RGBColor(0, 0, 0);
const AMBER: RGBColor = RGBColor(230, 159, 0);
const AMBER_TEXT: RGBColor = RGBColor(150, 95, 0);
const GREEN: RGBColor = RGBColor(0, 128, 90);
const GOODPUT: RGBColor = RGBColor(0, 114, 178);
const TIMEOUTS: RGBColor = RGBColor(213, 94, 0);
const LATENCY: RGBColor = RGBColor(148, 103, 189);

/// A stretch of traffic above its starting rate, `[start, end)` in seconds.
struct Surge {
    start: f64,
    end: f64,
    /// Highest and lowest multiple of the starting rate within it.
    max: f64,
    min: f64,
    /// It ends before the run does (a spike rather than a lasting rise).
    ends: bool,
}

/// A stretch of intervals, `[start, end)` in seconds.
#[derive(Clone, Copy)]
struct Span {
    start: f64,
    end: f64,
    i0: usize,
    i1: usize,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    WarmUp,
    Crash,
    Recovery,
    Other,
}

fn kind(label: &str) -> Kind {
    if label.contains("warm-up") {
        Kind::WarmUp
    } else if label.ends_with("crashes") {
        Kind::Crash
    } else if label.ends_with("recovers") {
        Kind::Recovery
    } else {
        Kind::Other
    }
}

struct Analysis {
    dt: f64,
    /// End of the last interval.
    end: f64,
    warmup: Option<f64>,
    /// Per point: what was asked for (the offered rate, or arrivals for closed workloads).
    demand: Vec<f64>,
    offered: bool,
    surges: Vec<Surge>,
    collapses: Vec<Span>,
    /// Per shown component (index into `Timeline::components`): stretches with instances down.
    outages: Vec<(usize, Vec<Span>)>,
    /// Components that did any work or were ever down, in model order.
    shown: Vec<usize>,
    timeouts: bool,
    /// Stretches of at least three intervals without a successful request.
    silent: Vec<Span>,
    /// What happened, in one or two sentences.
    story: String,
}

fn finite(v: f64) -> f64 {
    if v.is_finite() { v } else { 0.0 }
}

/// Maximal stretches of consecutive points where `f` holds, joining stretches separated by at
/// most `gap` points.
fn spans(tl: &Timeline, gap: usize, f: impl Fn(usize) -> bool) -> Vec<Span> {
    let dt = tl.interval_s;
    let mut out: Vec<Span> = Vec::new();
    for i in 0..tl.points.len() {
        if !f(i) {
            continue;
        }
        match out.last_mut() {
            Some(s) if i <= s.i1 + gap => s.i1 = i + 1,
            _ => out.push(Span {
                start: 0.0,
                end: 0.0,
                i0: i,
                i1: i + 1,
            }),
        }
    }
    for s in &mut out {
        s.start = tl.points[s.i0].t_s;
        s.end = tl.points[s.i1 - 1].t_s + dt;
    }
    out
}

/// "30 s", with a no-break space.
fn secs(t: f64) -> String {
    format!("{}\u{a0}s", trim_num(t, 2))
}

fn analyse(tl: &Timeline) -> Analysis {
    let dt = tl.interval_s;
    let pts = &tl.points;
    let end = pts.last().map(|p| p.t_s + dt).unwrap_or(0.0);
    let warmup = tl
        .events
        .iter()
        .find(|e| kind(&e.label) == Kind::WarmUp)
        .map(|e| e.t_s);
    let offered = pts
        .iter()
        .all(|p| p.offered_rps.is_some_and(f64::is_finite));
    let demand: Vec<f64> = pts
        .iter()
        .map(|p| {
            finite(if offered {
                p.offered_rps.unwrap_or(0.0)
            } else {
                p.arrivals_rps
            })
        })
        .collect();

    // Surges: the offered rate well above where it started.
    let base = if offered { demand[0] } else { 0.0 };
    let surges = if base > 0.0 {
        spans(tl, 0, |i| demand[i] >= SURGE * base * (1.0 - 1e-9))
            .into_iter()
            .map(|s| {
                let f = demand[s.i0..s.i1].iter().map(|d| d / base);
                Surge {
                    start: s.start,
                    end: s.end,
                    max: f.clone().fold(0.0, f64::max),
                    min: f.fold(f64::INFINITY, f64::min),
                    ends: s.i1 < pts.len(),
                }
            })
            .collect()
    } else {
        Vec::new()
    };

    // Collapses: goodput under half of what was asked for (and of what arrived, so that an
    // interval quiet by chance is not one), with enough requests to tell. A collapse lasts
    // until goodput is back above three quarters of it; gaps up to a second are closed.
    let one_second = (1.0 / dt).ceil().max(1.0) as usize;
    let mut down = vec![false; pts.len()];
    for i in 0..pts.len() {
        let asked = demand[i].min(finite(pts[i].arrivals_rps));
        let limit = if i > 0 && down[i - 1] {
            RECOVERED
        } else {
            COLLAPSED
        };
        down[i] = demand[i] * dt >= 5.0 && finite(pts[i].throughput_rps) < limit * asked;
    }
    let collapses = spans(tl, one_second, |i| down[i]);

    let shown: Vec<usize> = (0..tl.components.len())
        .filter(|&c| {
            pts.iter().any(|p| {
                p.utilization.get(c).is_some_and(|&u| u > 0.0)
                    || p.queue_len.get(c).is_some_and(|&q| q > 0.0)
                    || p.up_fraction.get(c).is_some_and(|&u| u < 1.0 - 1e-9)
            })
        })
        .collect();
    let outages = shown
        .iter()
        .map(|&c| {
            (
                c,
                spans(tl, 0, |i| {
                    pts[i].up_fraction.get(c).is_some_and(|&u| u < 1.0 - 1e-9)
                }),
            )
        })
        .filter(|(_, s)| !s.is_empty())
        .collect();
    let silent = spans(tl, 0, |i| finite(pts[i].throughput_rps) <= 0.0)
        .into_iter()
        .filter(|s| s.i1 - s.i0 >= 3)
        .collect();
    let mut a = Analysis {
        dt,
        end,
        warmup,
        demand,
        offered,
        surges,
        collapses,
        outages,
        shown,
        timeouts: pts.iter().any(|p| finite(p.timeouts_rps) > 0.0),
        silent,
        story: String::new(),
    };
    a.story = story(tl, &a);
    if let Some(cold) = cold_start(tl, &a) {
        a.story.push(' ');
        a.story.push_str(&cold);
    }
    a
}

/// The cold start of the first cache that has one: its hit ratio at the start, its steady value
/// (the mean after the warm-up), and when it got within 90% of that.
fn cold_start(tl: &Timeline, a: &Analysis) -> Option<String> {
    let pts = &tl.points;
    let from = a.warmup.unwrap_or(a.end / 2.0);
    (0..tl.components.len()).find_map(|c| {
        let h = |i: usize| pts[i].hit_ratio.get(c).copied().flatten();
        let steady: Vec<f64> = (0..pts.len())
            .filter(|&i| pts[i].t_s >= from)
            .filter_map(h)
            .collect();
        if steady.is_empty() {
            return None;
        }
        let steady = steady.iter().sum::<f64>() / steady.len() as f64;
        let (i0, first) = (0..pts.len()).find_map(|i| h(i).map(|v| (i, v)))?;
        if steady <= 0.05 || first >= 0.8 * steady {
            return None;
        }
        let warm = (i0..pts.len()).find(|&i| h(i).is_some_and(|v| v >= 0.9 * steady))?;
        Some(format!(
            "“{}” starts cold: {}% of its lookups hit in the first {}, and it is within 90% of \
             its steady {}% by {}.",
            tl.components[c],
            trim_num(100.0 * first, 0),
            if (tl.interval_s - 1.0).abs() < 1e-9 {
                "second".to_string()
            } else {
                secs(tl.interval_s)
            },
            trim_num(100.0 * steady, 0),
            secs(pts[warm].t_s + tl.interval_s)
        ))
    })
}

/// "×10", "×1.5–3".
fn factor_label(s: &Surge) -> String {
    if s.max - s.min <= 0.05 * s.max {
        format!("×{}", trim_num(s.max, 1))
    } else {
        format!("×{}–{}", trim_num(s.min, 1), trim_num(s.max, 1))
    }
}

/// The surge under way at `t` (or that began just after it).
fn surge_at(a: &Analysis, t: f64) -> Option<&Surge> {
    a.surges
        .iter()
        .find(|s| t >= s.start - a.dt * 0.5 && t < s.end + a.dt * 0.5)
}

/// The last crash at most three intervals before `t` (or during its interval).
fn crash_before<'a>(tl: &'a Timeline, a: &Analysis, t: f64) -> Option<&'a str> {
    tl.events
        .iter()
        .filter(|e| kind(&e.label) == Kind::Crash && e.t_s <= t + a.dt && e.t_s >= t - 3.0 * a.dt)
        .map(|e| e.label.as_str())
        .next_back()
}

/// What started a collapse, and how it ended: (", as the traffic spike starts (×3),",
/// " and recovers as soon as the spike ends (50 s)").
fn collapse_clause(tl: &Timeline, a: &Analysis, c: &Span) -> (String, String) {
    let near = 3.0 * a.dt;
    let t = c.start;
    let surge = surge_at(a, t);
    let crash = crash_before(tl, a, t);
    let name = |s: &Surge| if s.ends { "spike" } else { "rise" };
    let start = match (surge, crash) {
        (_, Some(e)) => format!(", just after {e},"),
        (Some(s), _) if t - s.start <= near => {
            format!(", as the traffic {} starts ({}),", name(s), factor_label(s))
        }
        (Some(s), _) => format!(", {} into the traffic {},", secs(t - s.start), name(s)),
        _ => String::new(),
    };
    let recovery = tl
        .events
        .iter()
        .find(|e| kind(&e.label) == Kind::Recovery && e.t_s > t && e.t_s <= c.end + a.dt / 2.0);
    let end = if c.i1 >= tl.points.len() {
        match (surge, recovery) {
            (_, Some(e)) if crash.is_some() && e.t_s < a.end - near => format!(
                " and stays down after {} at {}, to the end of the run",
                e.label,
                secs(e.t_s)
            ),
            (Some(sg), _) if sg.ends && sg.end < a.end - near => format!(
                " and stays down after the spike ends at {}: with the traffic back to normal \
                 the system does not recover (a metastable failure)",
                secs(sg.end)
            ),
            _ => " and stays down to the end of the run".to_string(),
        }
    } else {
        let b = c.end;
        match (surge, recovery) {
            (_, Some(e)) if crash.is_some() && b - e.t_s <= near => {
                format!(" and recovers at {}, when {}", secs(b), e.label)
            }
            (Some(sg), _) if sg.ends && b <= sg.end + near => {
                format!(" and recovers as soon as the spike ends ({})", secs(b))
            }
            (Some(sg), _) if sg.ends && b > sg.end => format!(
                " and recovers {} after the spike ends ({})",
                secs(b - sg.end),
                secs(b)
            ),
            _ => format!(" and recovers at {}", secs(b)),
        }
    };
    (start, end)
}

fn story(tl: &Timeline, a: &Analysis) -> String {
    let pts = &tl.points;
    let what = if a.offered {
        "the offered rate"
    } else {
        "the arrivals"
    };
    if !a.collapses.is_empty() {
        let mut s = String::new();
        for (k, c) in a.collapses.iter().take(2).enumerate() {
            let (start, end) = collapse_clause(tl, a, c);
            if k == 0 {
                s.push_str(&format!(
                    "Goodput collapses below half of {what} at {}{start}{end}.",
                    secs(c.start)
                ));
            } else {
                s.push_str(&format!(
                    " It collapses again at {}{start}{end}.",
                    secs(c.start)
                ));
            }
        }
        if a.collapses.len() > 2 {
            s.push_str(&format!(" ({} collapses in all.)", a.collapses.len()));
        }
        return s;
    }
    let errors = spans(tl, 0, |i| finite(pts[i].errors_rps) > 0.0);
    if let Some(first) = errors.first() {
        let (i, peak) = pts
            .iter()
            .enumerate()
            .map(|(i, p)| (i, finite(p.error_rate)))
            .fold((0, -1.0), |m, x| if x.1 > m.1 { x } else { m });
        let t = pts[i].t_s;
        let cause = match (crash_before(tl, a, first.start), surge_at(a, t)) {
            (Some(c), _) => format!(" at {}, just after {c},", secs(first.start)),
            (None, Some(s)) => format!(
                " at {} during the traffic {},",
                secs(first.start),
                if s.ends { "spike" } else { "rise" }
            ),
            _ => format!(" at {},", secs(first.start)),
        };
        let when = if i == first.i0 {
            String::new()
        } else {
            format!(" at {}", secs(t))
        };
        let last = errors.last().unwrap_or(first);
        let stop = if last.i1 < pts.len() {
            format!(" and stop by {}", secs(last.end))
        } else {
            " and go on to the end of the run".to_string()
        };
        return format!(
            "Errors appear{cause} peaking at {}% of requests{when}{stop}; goodput never falls \
             below half of {what}.",
            trim_num(100.0 * peak, 1),
        );
    }
    // The peak after the warm-up, when there is an after.
    let from = a.warmup.unwrap_or(0.0);
    let measured = pts.iter().any(|p| p.t_s >= from);
    let (i, p99) = pts
        .iter()
        .enumerate()
        .filter(|(_, p)| !measured || p.t_s >= from)
        .map(|(i, p)| (i, finite(p.latency_p99_ms)))
        .fold((0, -1.0), |m, x| if x.1 > m.1 { x } else { m });
    let during = match surge_at(a, pts[i].t_s) {
        Some(s) => format!(
            " during the traffic {}",
            if s.ends { "spike" } else { "rise" }
        ),
        None => String::new(),
    };
    let through = match a.surges.first() {
        Some(s) => format!(
            ", the traffic {} ({}) included,",
            if s.ends { "spike" } else { "rise" },
            factor_label(s)
        ),
        None => ",".to_string(),
    };
    format!(
        "Goodput follows {what} throughout{through} without errors; p99 latency peaks at {} ms \
         at {}{during}.",
        fmt_ms(p99.max(0.0)),
        secs(pts[i].t_s)
    )
}

fn caption(tl: &Timeline, a: &Analysis) -> String {
    let mut events: Vec<&str> = Vec::new();
    for e in &tl.events {
        let k = match kind(&e.label) {
            Kind::WarmUp => "the end of the warm-up",
            Kind::Crash => "crashes",
            Kind::Recovery => "recoveries",
            Kind::Other => "other events",
        };
        if !events.contains(&k) {
            events.push(k);
        }
    }
    let events = match events.as_slice() {
        [] => String::new(),
        [x] => format!(" Vertical lines mark {x}."),
        [init @ .., last] => format!(" Vertical lines mark {} and {last}.", init.join(", ")),
    };
    format!(
        "{} One point per {} of simulated time. Top: requests per second, {} (dashed), served \
         successfully (goodput, blue), errors (red){}; where goodput falls under half of it the \
         gap is filled red. Middle: p50 (dashed) and p99 latency of the requests served. Bottom: \
         how busy each component is{}.{events}{}{}",
        a.story,
        secs(a.dt),
        if a.offered {
            "offered by the traffic profile"
        } else {
            "arriving"
        },
        if a.timeouts {
            " and, of those, timeouts"
        } else {
            ""
        },
        match (
            a.outages.is_empty(),
            tl.points
                .iter()
                .any(|p| p.hit_ratio.iter().any(Option::is_some)),
        ) {
            (true, false) => "",
            (false, false) => ", and (dotted) the share of its instances up",
            (true, true) =>
                ", and (dashed) each cache's hit ratio, the share of its lookups that hit",
            (false, true) => {
                ", (dotted) the share of its instances up, and (dashed) each cache's hit ratio, \
                 the share of its lookups that hit"
            }
        },
        if a.warmup.is_some() {
            " The grey band is the warm-up, left out of the summary numbers."
        } else {
            ""
        },
        if a.surges.is_empty() {
            ""
        } else {
            " Amber bands: traffic above its starting rate."
        }
    )
}

// ---------------------------------------------------------------------------------------------
// The figure, described as data.

#[derive(Clone, Copy, PartialEq)]
enum Stroke {
    Solid,
    Dashed,
    Dotted,
}

struct Line {
    /// (t, value) or a break.
    pts: Vec<Option<(f64, f64)>>,
    color: RGBColor,
    width: u32,
    stroke: Stroke,
}

enum Swatch {
    Line(Stroke, u32),
    Shade(f64),
}

struct Key {
    label: String,
    color: RGBColor,
    swatch: Swatch,
}

fn key(label: impl Into<String>, color: RGBColor, swatch: Swatch) -> Key {
    Key {
        label: label.into(),
        color,
        swatch,
    }
}

/// Shading over a time range, the full height of a panel.
struct Band {
    start: f64,
    end: f64,
    color: RGBColor,
    alpha: f64,
}

/// A filled area between two curves over the same times.
struct Area {
    upper: Vec<(f64, f64)>,
    lower: Vec<(f64, f64)>,
    color: RGBColor,
    alpha: f64,
}

/// A label in a panel, centred on time `t`, at the top (or the middle) of the plot.
struct Note {
    t: f64,
    text: String,
    color: RGBColor,
    bold: bool,
    middle: bool,
}

struct YAxis {
    lo: f64,
    hi: f64,
    log: bool,
    /// Labelled ticks, and unlabelled grid lines.
    ticks: Vec<f64>,
    minor: Vec<f64>,
    suffix: &'static str,
}

impl YAxis {
    fn linear(max: f64, suffix: &'static str) -> YAxis {
        let max = if max.is_finite() && max > 0.0 {
            max * 1.05
        } else {
            1.0
        };
        let step = nice_step(max, 4.0);
        let n = (max / step - 1e-9).ceil().max(1.0) as usize;
        YAxis {
            lo: 0.0,
            hi: n as f64 * step,
            log: false,
            ticks: (0..=n).map(|i| i as f64 * step).collect(),
            minor: Vec::new(),
            suffix,
        }
    }

    fn log(min: f64, max: f64) -> YAxis {
        let steps = |e: i32| [1.0, 2.0, 5.0].map(|m| m * 10f64.powi(e));
        let (a, b) = (min.log10().floor() as i32, max.log10().ceil() as i32);
        let all: Vec<f64> = (a..=b).flat_map(steps).collect();
        let lo = all
            .iter()
            .copied()
            .rfind(|&v| v <= min * (1.0 + 1e-9))
            .unwrap_or(min);
        let hi = all
            .iter()
            .copied()
            .find(|&v| v >= max * (1.0 - 1e-9))
            .unwrap_or(max);
        let inside: Vec<f64> = all
            .into_iter()
            .filter(|&v| v >= lo * (1.0 - 1e-9) && v <= hi * (1.0 + 1e-9))
            .collect();
        let (ticks, minor) = if inside.len() <= 6 {
            (inside, Vec::new())
        } else {
            let decade = |v: &f64| (v.log10() - v.log10().round()).abs() < 1e-9;
            let mut ticks: Vec<f64> = inside.iter().copied().filter(decade).collect();
            if ticks.len() < 2 {
                ticks = vec![lo, hi];
            }
            let minor = inside.into_iter().filter(|v| !ticks.contains(v)).collect();
            (ticks, minor)
        };
        YAxis {
            lo,
            hi,
            log: true,
            ticks,
            minor,
            suffix: "",
        }
    }

    /// Value → share of the height from the bottom, clamped to the axis.
    fn frac(&self, v: f64) -> f64 {
        let f = if self.log {
            let v = v.max(self.lo);
            (v.log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        };
        if f.is_finite() {
            f.clamp(0.0, 1.0)
        } else {
            0.0
        }
    }

    fn label(&self, v: f64) -> String {
        let d = if self.log {
            if v >= 1.0 { 0 } else { decimals_for(v) }
        } else if self.ticks.len() >= 2 {
            decimals_for(self.ticks[1] - self.ticks[0])
        } else {
            2
        };
        format!("{}{}", trim_num(v, d), self.suffix)
    }
}

struct Panel {
    title: String,
    keys: Vec<Key>,
    y: YAxis,
    /// Share of the height left for plots.
    weight: f64,
    bands: Vec<Band>,
    areas: Vec<Area>,
    lines: Vec<Line>,
    notes: Vec<Note>,
}

struct Mark {
    t: f64,
    label: String,
    color: RGBColor,
}

struct Figure {
    title: String,
    subtitle: String,
    end: f64,
    x_ticks: Vec<f64>,
    x_decimals: usize,
    /// Shaded in every panel.
    bands: Vec<Band>,
    /// Labels above the panels: surges first, then events.
    strip: Vec<Mark>,
    /// Vertical lines in every panel.
    events: Vec<(f64, RGBColor)>,
    panels: Vec<Panel>,
    keys: Vec<Key>,
}

fn mid(tl: &Timeline, i: usize) -> f64 {
    tl.points[i].t_s + tl.interval_s / 2.0
}

fn event_color(k: Kind) -> RGBColor {
    match k {
        Kind::WarmUp => MUTED,
        Kind::Crash => LIMIT,
        Kind::Recovery => GREEN,
        Kind::Other => INK,
    }
}

fn figure(model: &str, tl: &Timeline, a: &Analysis) -> Figure {
    let pts = &tl.points;
    let n = pts.len();
    let series = |f: &dyn Fn(usize) -> Option<f64>| -> Vec<Option<(f64, f64)>> {
        (0..n)
            .map(|i| f(i).filter(|v| v.is_finite()).map(|v| (mid(tl, i), v)))
            .collect()
    };

    // Shading shared by all panels.
    let mut bands = Vec::new();
    if let Some(w) = a.warmup {
        bands.push(Band {
            start: 0.0,
            end: w,
            color: WARMUP,
            alpha: 0.07,
        });
    }
    for s in &a.surges {
        bands.push(Band {
            start: s.start,
            end: s.end,
            color: AMBER,
            alpha: 0.16,
        });
    }
    let mut strip: Vec<Mark> = a
        .surges
        .iter()
        .map(|s| Mark {
            t: s.start,
            label: format!("traffic {}", factor_label(s)),
            color: AMBER_TEXT,
        })
        .collect();
    let mut events = Vec::new();
    for e in &tl.events {
        let c = event_color(kind(&e.label));
        strip.push(Mark {
            t: e.t_s,
            label: e.label.clone(),
            color: c,
        });
        events.push((e.t_s, c));
    }

    // (a) Requests per second.
    let demand_label = if a.offered {
        "offered (the traffic profile)"
    } else {
        "arrivals"
    };
    let max_a = (0..n)
        .flat_map(|i| {
            let p = &pts[i];
            [a.demand[i], p.throughput_rps, p.errors_rps, p.timeouts_rps]
        })
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let mut lines_a = vec![Line {
        pts: series(&|i| Some(a.demand[i])),
        color: INK,
        width: 2,
        stroke: Stroke::Dashed,
    }];
    if a.timeouts {
        lines_a.push(Line {
            pts: series(&|i| Some(pts[i].timeouts_rps)),
            color: TIMEOUTS,
            width: 2,
            stroke: Stroke::Dotted,
        });
    }
    lines_a.push(Line {
        pts: series(&|i| Some(pts[i].errors_rps)),
        color: LIMIT,
        width: 2,
        stroke: Stroke::Solid,
    });
    lines_a.push(Line {
        pts: series(&|i| Some(pts[i].throughput_rps)),
        color: GOODPUT,
        width: 3,
        stroke: Stroke::Solid,
    });
    let mut keys_a = vec![
        key(demand_label, INK, Swatch::Line(Stroke::Dashed, 2)),
        key("served (goodput)", GOODPUT, Swatch::Line(Stroke::Solid, 3)),
        key("errors", LIMIT, Swatch::Line(Stroke::Solid, 2)),
    ];
    if a.timeouts {
        keys_a.push(key(
            "of which timeouts",
            TIMEOUTS,
            Swatch::Line(Stroke::Dotted, 2),
        ));
    }
    let mut areas_a = Vec::new();
    let mut notes_a = Vec::new();
    for (k, c) in a.collapses.iter().enumerate() {
        let upper: Vec<(f64, f64)> = (c.i0..c.i1).map(|i| (mid(tl, i), a.demand[i])).collect();
        let lower: Vec<(f64, f64)> = (c.i0..c.i1)
            .map(|i| (mid(tl, i), finite(pts[i].throughput_rps).min(a.demand[i])))
            .collect();
        areas_a.push(Area {
            upper,
            lower,
            color: LIMIT,
            alpha: 0.22,
        });
        if k < 4 {
            let text = if c.i1 >= n {
                format!("collapsed from {} to the end", secs(c.start))
            } else {
                format!("collapsed {}–{}", trim_num(c.start, 2), secs(c.end))
            };
            notes_a.push(Note {
                t: (c.start + c.end) / 2.0,
                text,
                color: LIMIT,
                bold: true,
                middle: false,
            });
        }
    }
    let panel_a = Panel {
        title: "Requests per second".into(),
        keys: keys_a,
        y: YAxis::linear(max_a, ""),
        weight: 0.42,
        bands: Vec::new(),
        areas: areas_a,
        lines: lines_a,
        notes: notes_a,
    };

    // (b) Latency of the requests served.
    let served = |i: usize| finite(pts[i].throughput_rps) > 0.0;
    let lat: Vec<f64> = (0..n)
        .filter(|&i| served(i))
        .flat_map(|i| [pts[i].latency_p50_ms, pts[i].latency_p99_ms])
        .filter(|v| v.is_finite() && *v > 0.0)
        .collect();
    let lmin = lat.iter().copied().fold(f64::INFINITY, f64::min);
    let lmax = lat.iter().copied().fold(0.0, f64::max);
    let log = !lat.is_empty() && lmax / lmin > 30.0;
    let y_b = if log {
        YAxis::log(lmin, lmax)
    } else {
        YAxis::linear(lmax, "")
    };
    let lat_series = |f: fn(&crate::stats::timeline::TimelinePoint) -> f64| {
        series(&|i| (served(i) && f(&pts[i]) > 0.0).then(|| f(&pts[i])))
    };
    let mut notes_b: Vec<Note> = a
        .silent
        .iter()
        .map(|s| Note {
            t: (s.start + s.end) / 2.0,
            text: "no request served".into(),
            color: MUTED,
            bold: false,
            middle: true,
        })
        .collect();
    if lat.is_empty() {
        notes_b = vec![Note {
            t: a.end / 2.0,
            text: "no request was served".into(),
            color: MUTED,
            bold: false,
            middle: true,
        }];
    }
    let panel_b = Panel {
        title: format!(
            "Latency of the requests served (ms{})",
            if log { ", log scale" } else { "" }
        ),
        keys: vec![
            key("p99", LATENCY, Swatch::Line(Stroke::Solid, 3)),
            key("p50 (median)", LATENCY, Swatch::Line(Stroke::Dashed, 2)),
        ],
        y: y_b,
        weight: 0.29,
        bands: Vec::new(),
        areas: Vec::new(),
        lines: vec![
            Line {
                pts: lat_series(|p| p.latency_p50_ms),
                color: LATENCY,
                width: 2,
                stroke: Stroke::Dashed,
            },
            Line {
                pts: lat_series(|p| p.latency_p99_ms),
                color: LATENCY,
                width: 3,
                stroke: Stroke::Solid,
            },
        ],
        notes: notes_b,
    };

    // (c) Utilization, and instances up.
    let mut lines_c = Vec::new();
    let mut keys_c = Vec::new();
    let mut bands_c = Vec::new();
    let mut notes_c = Vec::new();
    for (k, &c) in a.shown.iter().enumerate() {
        let col = color(k);
        lines_c.push(Line {
            pts: series(&|i| pts[i].utilization.get(c).map(|u| 100.0 * u)),
            color: col,
            width: 3,
            stroke: Stroke::Solid,
        });
        keys_c.push(key(
            tl.components[c].clone(),
            col,
            Swatch::Line(Stroke::Solid, 3),
        ));
    }
    let caches: Vec<usize> = (0..tl.components.len())
        .filter(|&c| {
            pts.iter()
                .any(|p| p.hit_ratio.get(c).is_some_and(Option::is_some))
        })
        .collect();
    for &c in &caches {
        let col = color(a.shown.iter().position(|&x| x == c).unwrap_or(c));
        lines_c.push(Line {
            pts: series(&|i| {
                pts[i]
                    .hit_ratio
                    .get(c)
                    .copied()
                    .flatten()
                    .map(|h| 100.0 * h)
            }),
            color: col,
            width: 2,
            stroke: Stroke::Dashed,
        });
        keys_c.push(key(
            format!("{}: hit ratio", tl.components[c]),
            col,
            Swatch::Line(Stroke::Dashed, 2),
        ));
    }
    for (c, outs) in &a.outages {
        let k = a.shown.iter().position(|x| x == c).unwrap_or(0);
        let col = color(k);
        let name = &tl.components[*c];
        lines_c.push(Line {
            pts: series(&|i| pts[i].up_fraction.get(*c).map(|u| 100.0 * u)),
            color: col,
            width: 2,
            stroke: Stroke::Dotted,
        });
        keys_c.push(key(
            format!("{name}: instances up"),
            col,
            Swatch::Line(Stroke::Dotted, 2),
        ));
        for s in outs {
            bands_c.push(Band {
                start: s.start,
                end: s.end,
                color: LIMIT,
                alpha: 0.08,
            });
            let least = (s.i0..s.i1)
                .filter_map(|i| pts[i].up_fraction.get(*c).copied())
                .fold(1.0, f64::min);
            notes_c.push(Note {
                t: (s.start + s.end) / 2.0,
                text: if least <= 0.0 {
                    format!("{name} down")
                } else {
                    format!("{name}: {}% up", trim_num(100.0 * least, 0))
                },
                color: LIMIT,
                bold: true,
                middle: true,
            });
        }
    }
    if a.shown.is_empty() {
        notes_c.push(Note {
            t: a.end / 2.0,
            text: "no component did any work".into(),
            color: MUTED,
            bold: false,
            middle: true,
        });
    }
    let mut y_c = YAxis::linear(100.0, "%");
    y_c.ticks = vec![0.0, 25.0, 50.0, 75.0, 100.0];
    y_c.hi = 106.0;
    let panel_c = Panel {
        title: if caches.is_empty() {
            "Utilization (% of workers busy)".into()
        } else {
            "Utilization (% of workers busy) and cache hit ratio (% of lookups)".into()
        },
        keys: keys_c,
        y: y_c,
        weight: 0.29,
        bands: bands_c,
        areas: Vec::new(),
        lines: lines_c,
        notes: notes_c,
    };

    // Keys for the shading.
    let mut keys = Vec::new();
    if a.warmup.is_some() {
        keys.push(key(
            "warm-up (not in the summary)",
            WARMUP,
            Swatch::Shade(0.12),
        ));
    }
    if !a.surges.is_empty() {
        keys.push(key(
            "traffic above its starting rate",
            AMBER,
            Swatch::Shade(0.3),
        ));
    }
    if !a.collapses.is_empty() {
        keys.push(key(
            if a.offered {
                "collapsed: goodput under half the offered rate"
            } else {
                "collapsed: goodput under half the arrivals"
            },
            LIMIT,
            Swatch::Shade(0.25),
        ));
    }
    if !a.outages.is_empty() {
        keys.push(key("instances down", LIMIT, Swatch::Shade(0.12)));
    }

    let step = nice_step(a.end, 10.0);
    let x_ticks = (0..=((a.end / step) + 1e-9).floor() as usize)
        .map(|i| i as f64 * step)
        .collect();
    Figure {
        title: format!("Over time: {model}"),
        subtitle: a.story.clone(),
        end: a.end,
        x_ticks,
        x_decimals: decimals_for(step),
        bands,
        strip,
        events,
        panels: vec![panel_a, panel_b, panel_c],
        keys,
    }
}

// ---------------------------------------------------------------------------------------------
// Drawing.

const SIDE: i32 = 22;
const TITLE_SIZE: u32 = 26;
const SUBTITLE_SIZE: u32 = 17;
const STRIP_SIZE: u32 = 15;
const HEADER_SIZE: u32 = 16;
const KEY_SIZE: u32 = 15;
const TICK_SIZE: u32 = 14;
const DESC_SIZE: u32 = 16;
const SWATCH_W: i32 = 30;
const KEY_GAP: i32 = 20;
const ROW: i32 = 21;
const PANEL_GAP: i32 = 10;

fn m<T, E: std::fmt::Display>(r: Result<T, E>) -> Result<T, String> {
    r.map_err(|e| e.to_string())
}

/// Splits a polyline (pixels) into dashes of `on` pixels separated by `off`.
fn dashes(pts: &[(f64, f64)], on: f64, off: f64) -> Vec<Vec<(i32, i32)>> {
    let period = on + off;
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut cur: Vec<(f64, f64)> = Vec::new();
    let mut pos = 0.0;
    for w in pts.windows(2) {
        let (a, b) = (w[0], w[1]);
        let len = (b.0 - a.0).hypot(b.1 - a.1);
        if len <= 0.0 {
            continue;
        }
        let at = |d: f64| (a.0 + (b.0 - a.0) * d / len, a.1 + (b.1 - a.1) * d / len);
        let mut d = 0.0;
        while d < len {
            let phase = pos % period;
            let (drawing, left) = if phase < on {
                (true, on - phase)
            } else {
                (false, period - phase)
            };
            let step = left.max(1e-6).min(len - d);
            if drawing {
                if cur.is_empty() {
                    cur.push(at(d));
                }
                cur.push(at(d + step));
            } else if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            d += step;
            pos += step;
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out.into_iter()
        .map(|s| {
            let mut v: Vec<(i32, i32)> = s
                .into_iter()
                .map(|(x, y)| (x.round() as i32, y.round() as i32))
                .collect();
            v.dedup();
            v
        })
        .filter(|s| s.len() >= 2)
        .collect()
}

fn stroke_path<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    pts: &[(f64, f64)],
    color: RGBColor,
    width: u32,
    stroke: Stroke,
) -> Result<(), String> {
    if let [(x, y)] = pts {
        // A single point between breaks: a short tick, so that it is not lost.
        let (x, y) = (x.round() as i32, y.round() as i32);
        return m(root.draw(&PathElement::new(
            vec![(x - 2, y), (x + 2, y)],
            color.stroke_width(width),
        )));
    }
    if pts.len() < 2 {
        return Ok(());
    }
    let segs = match stroke {
        Stroke::Solid => vec![
            pts.iter()
                .map(|&(x, y)| (x.round() as i32, y.round() as i32))
                .collect(),
        ],
        Stroke::Dashed => dashes(pts, 8.0, 5.0),
        Stroke::Dotted => dashes(pts, 2.5, 4.0),
    };
    for s in segs {
        m(root.draw(&PathElement::new(s, color.stroke_width(width))))?;
    }
    Ok(())
}

fn draw_swatch<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    k: &Key,
    x: i32,
    yc: i32,
) -> Result<(), String> {
    match k.swatch {
        Swatch::Line(stroke, width) => stroke_path(
            root,
            &[(x as f64, yc as f64), ((x + SWATCH_W) as f64, yc as f64)],
            k.color,
            width,
            stroke,
        ),
        Swatch::Shade(alpha) => {
            m(root.draw(&Rectangle::new(
                [(x, yc - 7), (x + SWATCH_W, yc + 7)],
                k.color.mix(alpha).filled(),
            )))?;
            m(root.draw(&Rectangle::new(
                [(x, yc - 7), (x + SWATCH_W, yc + 7)],
                RGBColor(190, 190, 190).stroke_width(1),
            )))
        }
    }
}

/// Key positions in rows of `max_w` pixels, the first row starting at `first_x`: per row,
/// (key index, x offset, label as drawn).
fn key_rows(keys: &[Key], first_x: i32, max_w: i32) -> Vec<Vec<(usize, i32, String)>> {
    let mut rows: Vec<Vec<(usize, i32, String)>> = vec![Vec::new()];
    let mut x = first_x;
    for (i, k) in keys.iter().enumerate() {
        let label = fit(&k.label, KEY_SIZE, false, max_w - SWATCH_W - 8);
        let w = SWATCH_W + 6 + text_size(&label, KEY_SIZE, false).0;
        if x + w > max_w && x > 0 {
            rows.push(Vec::new());
            x = 0;
        }
        rows.last_mut().expect("a row").push((i, x, label));
        x += w + KEY_GAP;
    }
    rows
}

fn draw_keys<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    keys: &[Key],
    rows: &[Vec<(usize, i32, String)>],
    x0: i32,
    y0: i32,
) -> Result<(), String> {
    for (r, row) in rows.iter().enumerate() {
        let yc = y0 + r as i32 * ROW + ROW / 2;
        for (i, x, label) in row {
            draw_swatch(root, &keys[*i], x0 + x, yc)?;
            m(root.draw(&Text::new(
                label.clone(),
                (x0 + x + SWATCH_W + 6, yc),
                style(KEY_SIZE, false, INK).pos(Pos::new(HPos::Left, VPos::Center)),
            )))?;
        }
    }
    Ok(())
}

/// Places strip labels greedily in up to three rows: (mark index, row, x of the text, width).
fn strip_rows(
    f: &Figure,
    x_of: &dyn Fn(f64) -> i32,
    left: i32,
    right: i32,
) -> Vec<(usize, usize, i32)> {
    let mut taken: Vec<(usize, i32, i32)> = Vec::new();
    let mut out = Vec::new();
    for (i, mk) in f.strip.iter().enumerate() {
        let w = text_size(&mk.label, STRIP_SIZE, false).0;
        let x = x_of(mk.t);
        // To the right of the line, or to its left near the right edge.
        let tx = if x + 4 + w <= right {
            x + 4
        } else {
            (x - 4 - w).max(left)
        };
        let (a, b) = (tx - 6, tx + w + 6);
        if let Some(row) = (0..3).find(|&r| {
            !taken
                .iter()
                .any(|&(tr, ta, tb)| tr == r && a < tb && ta < b)
        }) {
            taken.push((row, a, b));
            out.push((i, row, tx));
        }
    }
    out
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, f: &Figure) -> Result<(), String> {
    let (w, h) = (WIDTH as i32, HEIGHT as i32);
    m(root.fill(&WHITE))?;
    let inner = w - 2 * SIDE;

    // Title and subtitle.
    let mut y = 14;
    m(root.draw(&Text::new(
        fit(&f.title, TITLE_SIZE, true, inner),
        (SIDE, y),
        style(TITLE_SIZE, true, INK),
    )))?;
    y += text_size("Ag", TITLE_SIZE, true).1 + 10;
    // `wrap` breaks at any whitespace, no-break spaces included: hide them from it.
    let keep = f.subtitle.replace('\u{a0}', "\u{2060}");
    for line in wrap(&keep, SUBTITLE_SIZE, inner, 3) {
        let line = line.replace('\u{2060}', " ");
        m(root.draw(&Text::new(
            line,
            (SIDE, y),
            style(SUBTITLE_SIZE, false, MUTED),
        )))?;
        y += SUBTITLE_SIZE as i32 + 5;
    }
    y += 4;

    // The shared time axis.
    let tick_w = f
        .panels
        .iter()
        .flat_map(|p| {
            p.y.ticks
                .iter()
                .map(|&v| text_size(&p.y.label(v), TICK_SIZE, false).0)
        })
        .max()
        .unwrap_or(20);
    let left = SIDE + tick_w + 10;
    let right = w - SIDE - 6;
    let span = if f.end > 0.0 { f.end } else { 1.0 };
    let xf = |t: f64| left as f64 + (t / span).clamp(0.0, 1.0) * (right - left) as f64;
    let x_of = |t: f64| xf(t).round() as i32;

    // Event labels, between the first panel's header and its plot.
    let placed = strip_rows(f, &x_of, SIDE, w - SIDE);
    let strip_rows_used = placed.iter().map(|p| p.1 + 1).max().unwrap_or(0) as i32;
    let mut strip_top = y;
    let strip_h = strip_rows_used * 18 + if strip_rows_used > 0 { 2 } else { 0 };

    // Heights: headers, then plots sharing what is left.
    let headers: Vec<Vec<Vec<(usize, i32, String)>>> = f
        .panels
        .iter()
        .map(|p| {
            let tw = text_size(&p.title, HEADER_SIZE, true).0 + 24;
            let rows = key_rows(&p.keys, tw, right - left);
            rows.into_iter().filter(|r| !r.is_empty()).collect()
        })
        .collect();
    let bottom_rows = key_rows(&f.keys, 0, inner);
    let bottom_rows: Vec<_> = bottom_rows.into_iter().filter(|r| !r.is_empty()).collect();
    let axis_h = TICK_SIZE as i32 + DESC_SIZE as i32 + 18;
    let legend_h = bottom_rows.len() as i32 * ROW + 8;
    let header_h: i32 = headers
        .iter()
        .map(|r| (r.len().max(1) as i32) * ROW + 4)
        .sum();
    let gaps = PANEL_GAP * (f.panels.len() as i32 - 1).max(0);
    let avail = (h - y - strip_h - axis_h - legend_h - header_h - gaps - 6).max(60);
    let total_w: f64 = f.panels.iter().map(|p| p.weight).sum();

    let mut plots: Vec<(i32, i32)> = Vec::new();
    for (k, (p, rows)) in f.panels.iter().zip(&headers).enumerate() {
        // Header: title, then keys.
        let hy = y;
        m(root.draw(&Text::new(
            p.title.clone(),
            (left, hy + ROW / 2),
            style(HEADER_SIZE, true, INK).pos(Pos::new(HPos::Left, VPos::Center)),
        )))?;
        draw_keys(root, &p.keys, rows, left, hy)?;
        y += (rows.len().max(1) as i32) * ROW + 4;
        if k == 0 {
            strip_top = y;
            y += strip_h;
        }
        let ph = (avail as f64 * p.weight / total_w).round() as i32;
        let (top, bottom) = (y, y + ph);
        plots.push((top, bottom));
        let yf = |v: f64| bottom as f64 - p.y.frac(v) * (bottom - top) as f64;

        // Shading.
        for b in f.bands.iter().chain(&p.bands) {
            let (x0, x1) = (x_of(b.start), x_of(b.end));
            if x1 > x0 {
                m(root.draw(&Rectangle::new(
                    [(x0, top), (x1, bottom)],
                    b.color.mix(b.alpha).filled(),
                )))?;
            }
        }
        // Grid.
        let grid = RGBColor(225, 225, 225);
        let faint = RGBColor(240, 240, 240);
        for &v in &p.y.minor {
            let yy = yf(v).round() as i32;
            m(root.draw(&PathElement::new(
                vec![(left, yy), (right, yy)],
                faint.stroke_width(1),
            )))?;
        }
        for &v in &p.y.ticks {
            let yy = yf(v).round() as i32;
            m(root.draw(&PathElement::new(
                vec![(left, yy), (right, yy)],
                grid.stroke_width(1),
            )))?;
            m(root.draw(&Text::new(
                p.y.label(v),
                (left - 6, yy),
                style(TICK_SIZE, false, MUTED).pos(Pos::new(HPos::Right, VPos::Center)),
            )))?;
        }
        for &t in &f.x_ticks {
            let xx = x_of(t);
            m(root.draw(&PathElement::new(
                vec![(xx, top), (xx, bottom)],
                grid.stroke_width(1),
            )))?;
        }
        // Events, under the data.
        for &(t, c) in &f.events {
            let xx = x_of(t) as f64;
            stroke_path(
                root,
                &[(xx, top as f64), (xx, bottom as f64)],
                c,
                2,
                Stroke::Dashed,
            )?;
        }
        // Areas, then lines.
        for a in &p.areas {
            let mut poly: Vec<(i32, i32)> = a
                .upper
                .iter()
                .map(|&(t, v)| (x_of(t), yf(v).round() as i32))
                .collect();
            poly.extend(
                a.lower
                    .iter()
                    .rev()
                    .map(|&(t, v)| (x_of(t), yf(v).round() as i32)),
            );
            if poly.len() == 2 {
                // One interval: a bar as wide as the interval would be.
                let (x, y0, y1) = (poly[0].0, poly[0].1, poly[1].1);
                poly = vec![(x - 3, y0), (x + 3, y0), (x + 3, y1), (x - 3, y1)];
            }
            if poly.len() >= 3 {
                m(root.draw(&Polygon::new(poly, a.color.mix(a.alpha).filled())))?;
            }
        }
        for l in &p.lines {
            for seg in l.pts.split(|p| p.is_none()) {
                let px: Vec<(f64, f64)> =
                    seg.iter().flatten().map(|&(t, v)| (xf(t), yf(v))).collect();
                stroke_path(root, &px, l.color, l.width, l.stroke)?;
            }
        }
        // Frame.
        m(root.draw(&Rectangle::new(
            [(left, top), (right, bottom)],
            RGBColor(150, 150, 150).stroke_width(1),
        )))?;
        // Notes, over everything, each on a light box.
        let mut taken: Vec<(i32, i32, i32, i32)> = Vec::new();
        for n in &p.notes {
            let (tw, th) = text_size(&n.text, KEY_SIZE, n.bold);
            let cx = x_of(n.t);
            let x0 = (cx - tw / 2).clamp(left + 4, (right - 4 - tw).max(left + 4));
            let mut y0 = if n.middle {
                (top + bottom) / 2 - th / 2
            } else {
                top + 5
            };
            while taken
                .iter()
                .any(|r| x0 - 4 < r.2 && r.0 < x0 + tw + 4 && y0 - 2 < r.3 && r.1 < y0 + th + 3)
                && y0 + 2 * th < bottom
            {
                y0 += th + 6;
            }
            taken.push((x0 - 4, y0 - 2, x0 + tw + 4, y0 + th + 3));
            m(root.draw(&Rectangle::new(
                [(x0 - 4, y0 - 2), (x0 + tw + 4, y0 + th + 3)],
                WHITE.mix(0.85).filled(),
            )))?;
            m(root.draw(&Text::new(
                n.text.clone(),
                (x0, y0),
                style(KEY_SIZE, n.bold, n.color),
            )))?;
        }
        y = bottom + PANEL_GAP;
    }
    let plot_top = plots.first().map(|p| p.0).unwrap_or(y);
    let plot_bottom = plots.last().map(|p| p.1).unwrap_or(y);

    // Event labels, each joined to its line.
    for (i, row, tx) in placed {
        let mk = &f.strip[i];
        let ty = strip_top + row as i32 * 18;
        let xx = x_of(mk.t) as f64;
        stroke_path(
            root,
            &[(xx, (ty + 4) as f64), (xx, plot_top as f64)],
            mk.color,
            1,
            Stroke::Solid,
        )?;
        m(root.draw(&Text::new(
            mk.label.clone(),
            (tx, ty),
            style(STRIP_SIZE, false, mk.color),
        )))?;
    }

    // Time axis under the last panel.
    for &t in &f.x_ticks {
        let xx = x_of(t);
        m(root.draw(&PathElement::new(
            vec![(xx, plot_bottom), (xx, plot_bottom + 5)],
            RGBColor(120, 120, 120).stroke_width(1),
        )))?;
        m(root.draw(&Text::new(
            trim_num(t, f.x_decimals),
            (xx, plot_bottom + 7),
            style(TICK_SIZE, false, MUTED).pos(Pos::new(HPos::Center, VPos::Top)),
        )))?;
    }
    m(root.draw(&Text::new(
        "Time since the start of the run (s)",
        ((left + right) / 2, plot_bottom + TICK_SIZE as i32 + 12),
        style(DESC_SIZE, false, INK).pos(Pos::new(HPos::Center, VPos::Top)),
    )))?;

    // Keys for the shading.
    let ly = h - legend_h;
    draw_keys(root, &f.keys, &bottom_rows, SIDE, ly)?;
    Ok(())
}
