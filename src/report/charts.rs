//! Charts of a sweep, each rendered twice from one description: SVG (text kept as text) and PNG.
//!
//! Every chart is first described as data (a [`Figure`]: title, subtitle, panels of layers, a
//! legend), then drawn by one generic routine on both plotters backends, so the two files always
//! agree. Layout is computed from the registered font's metrics (DejaVu Sans, bundled), never
//! from system fonts: the same input gives byte-identical SVG and PNG on every machine. The PNG
//! encoder is a small deterministic one (fixed-Huffman deflate with LZ77), so no image crate and
//! no temporary files are needed.
//!
//! The charts:
//! - `latency`: p99 (solid) and p50 (dashed) against traffic per series, 95% bands, SLO, knees.
//! - `throughput`: completed against offered requests/s, with the ideal y = x.
//! - `errors`: error rate (%) against traffic, with the error budget.
//! - `utilization-<slug>`: per model, every component with workers. When parameters were swept,
//!   one small panel per combination (the first [`MAX_FACETS`]) with a shared legend, each titled
//!   with its bottleneck: how the bottleneck moves between combinations is the point of such a
//!   sweep, and showing only the first combination would hide it.
//! - `cost`: p99 at the highest traffic every costed design was run at, against monthly cost.

use super::{Chart, SweepOutput};
use crate::stats::summary::RunSummary;
use crate::sweep::Knee;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::sync::Once;

pub const WIDTH: u32 = 1000;
pub const HEIGHT: u32 = 600;
/// Utilization charts show at most this many parameter combinations of one model.
pub const MAX_FACETS: usize = 6;
pub(crate) const FONT: &str = "sans-serif";

/// Okabe–Ito colours (distinguishable with the common colour-vision deficiencies), then extras.
const PALETTE: [RGBColor; 10] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(230, 159, 0),   // orange
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(60, 60, 60),    // near black
    RGBColor(140, 86, 75),   // brown
    RGBColor(148, 103, 189), // purple
    RGBColor(150, 150, 150), // grey
];
pub(crate) const INK: RGBColor = RGBColor(34, 34, 34);
pub(crate) const MUTED: RGBColor = RGBColor(85, 85, 85);
pub(crate) const LIMIT: RGBColor = RGBColor(200, 0, 0);
const IDEAL: RGBColor = RGBColor(120, 120, 120);

pub(crate) fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

pub(crate) fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // DejaVu is bundled and known to parse; a failure would show as missing text.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
        let _ = plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold());
    });
}

// ---------------------------------------------------------------------------------------------
// Series: one model at one combination of swept parameters.

/// One line of the comparison charts: a model at one parameter combination, points by traffic.
pub(crate) struct Series<'a> {
    pub model: &'a str,
    pub parameters: &'a [(String, f64)],
    pub label: String,
    pub points: Vec<&'a RunSummary>,
    pub knee: Option<&'a Knee>,
    pub color: RGBColor,
}

impl Series<'_> {
    pub fn at(&self, traffic: f64) -> Option<&RunSummary> {
        self.points.iter().copied().find(|r| r.traffic == traffic)
    }
}

/// "Model" or "Model · app.instances=4".
pub(crate) fn series_label(model: &str, parameters: &[(String, f64)]) -> String {
    let mut s = model.to_string();
    for (k, v) in parameters {
        s.push_str(&format!(" · {k}={v}"));
    }
    s
}

/// Results grouped by (model, parameters) in order of first appearance, each sorted by traffic.
pub(crate) fn series<'a>(out: &'a SweepOutput) -> Vec<Series<'a>> {
    let mut all: Vec<Series<'a>> = Vec::new();
    for r in out.results {
        match all
            .iter_mut()
            .find(|s| s.model == r.model && s.parameters == r.parameters.as_slice())
        {
            Some(s) => s.points.push(r),
            None => {
                let knee = out
                    .knees
                    .iter()
                    .find(|k| k.model == r.model && k.parameters == r.parameters);
                all.push(Series {
                    model: &r.model,
                    parameters: &r.parameters,
                    label: series_label(&r.model, &r.parameters),
                    points: vec![r],
                    knee,
                    color: color(all.len()),
                });
            }
        }
    }
    for s in &mut all {
        s.points.sort_by(|a, b| a.traffic.total_cmp(&b.traffic));
    }
    all
}

/// Model names in order of first appearance in the results.
pub(crate) fn model_names<'a>(out: &'a SweepOutput) -> Vec<&'a str> {
    let mut names: Vec<&str> = Vec::new();
    for r in out.results {
        if !names.contains(&r.model.as_str()) {
            names.push(&r.model);
        }
    }
    names
}

fn slug(name: &str) -> String {
    let mut s = String::new();
    for c in name.chars().flat_map(|c| c.to_lowercase()) {
        if c.is_ascii_alphanumeric() {
            s.push(c);
        } else if !s.ends_with('-') {
            s.push('-');
        }
    }
    let s: String = s.trim_matches('-').chars().take(48).collect();
    let s = s.trim_end_matches('-').to_string();
    if s.is_empty() { "model".into() } else { s }
}

/// (model name, stem of its utilization chart), unique stems, in model order.
pub(crate) fn utilization_stems(out: &SweepOutput) -> Vec<(String, String)> {
    let mut used: Vec<String> = Vec::new();
    model_names(out)
        .into_iter()
        .map(|m| {
            let base = format!("utilization-{}", slug(m));
            let mut stem = base.clone();
            let mut i = 2;
            while used.contains(&stem) {
                stem = format!("{base}-{i}");
                i += 1;
            }
            used.push(stem.clone());
            (m.to_string(), stem)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Formatting.

/// "3x", "2.5x".
pub(crate) fn fmt_traffic(t: f64) -> String {
    format!("{}x", trim_num(t, 3))
}

/// A number with at most `decimals` decimals, trailing zeros removed, thousands separated.
pub(crate) fn trim_num(v: f64, decimals: usize) -> String {
    let s = format!("{:.*}", decimals, v);
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    let s = if s == "-0" { "0".to_string() } else { s };
    group_thousands(&s)
}

fn group_thousands(s: &str) -> String {
    let (sign, rest) = match s.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", s),
    };
    let (int, frac) = match rest.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (rest, None),
    };
    if int.len() <= 3 {
        return s.to_string();
    }
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{out}.{f}"),
        None => format!("{sign}{out}"),
    }
}

/// Latency in ms, with precision that suits its size.
pub(crate) fn fmt_ms(x: f64) -> String {
    if x >= 100.0 {
        trim_num(x, 0)
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

pub(crate) fn text_size(s: &str, size: u32, bold: bool) -> (i32, i32) {
    let f = FontDesc::new(FontFamily::Name(FONT), size as f64, font_style(bold));
    match f.box_size(s) {
        Ok((w, h)) => (w as i32, h as i32),
        Err(_) => ((s.chars().count() as u32 * size / 2) as i32, size as i32),
    }
}

fn font_style(bold: bool) -> FontStyle {
    if bold {
        FontStyle::Bold
    } else {
        FontStyle::Normal
    }
}

pub(crate) fn style(size: u32, bold: bool, color: RGBColor) -> TextStyle<'static> {
    FontDesc::new(FontFamily::Name(FONT), size as f64, font_style(bold)).color(&color)
}

/// Shortens `s` with an ellipsis until it fits in `max_w` pixels.
pub(crate) fn fit(s: &str, size: u32, bold: bool, max_w: i32) -> String {
    if text_size(s, size, bold).0 <= max_w {
        return s.to_string();
    }
    let chars: Vec<char> = s.chars().collect();
    let mut n = chars.len();
    while n > 1 {
        n -= 1;
        let t: String = chars[..n].iter().collect::<String>().trim_end().to_string() + "…";
        if text_size(&t, size, bold).0 <= max_w {
            return t;
        }
    }
    "…".into()
}

/// Greedy word wrap into at most `max_lines` lines of `max_w` pixels (the last one shortened).
pub(crate) fn wrap(s: &str, size: u32, max_w: i32, max_lines: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for word in s.split_whitespace() {
        let cand = if cur.is_empty() {
            word.to_string()
        } else {
            format!("{cur} {word}")
        };
        if text_size(&cand, size, false).0 <= max_w || cur.is_empty() {
            cur = cand;
        } else {
            lines.push(std::mem::take(&mut cur));
            cur = word.to_string();
        }
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    if lines.len() > max_lines {
        let rest = lines[max_lines - 1..].join(" ");
        lines.truncate(max_lines - 1);
        lines.push(rest);
    }
    lines
        .into_iter()
        .map(|l| fit(&l, size, false, max_w))
        .collect()
}

/// "A vs B" / "A, B and C" when it fits in `max_w`, else "N designs".
fn names_phrase(names: &[&str], size: u32, max_w: i32) -> String {
    let phrase = match names {
        [] => String::new(),
        [a] => a.to_string(),
        [a, b] => format!("{a} vs {b}"),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    };
    if text_size(&phrase, size, true).0 <= max_w {
        phrase
    } else {
        format!("{} designs compared", names.len())
    }
}

// ---------------------------------------------------------------------------------------------
// The chart description.

#[derive(Clone, Copy, PartialEq)]
enum Fmt {
    Plain,
    Traffic,
    Percent,
    Dollars,
}

#[derive(Clone)]
struct Axis {
    label: String,
    /// Range and ticks in data units (for a log axis, powers of ten at the ends).
    lo: f64,
    hi: f64,
    log: bool,
    ticks: Vec<f64>,
    minor: Vec<f64>,
    fmt: Fmt,
}

/// A "nice" step (1, 2, 2.5 or 5 times a power of ten) giving about `n` intervals.
pub(crate) fn nice_step(span: f64, n: f64) -> f64 {
    let raw = (span / n).max(1e-12);
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let m = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 2.5 {
        2.5
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    m * mag
}

pub(crate) fn decimals_for(step: f64) -> usize {
    let mut d = 0;
    while d < 6
        && ((step * 10f64.powi(d as i32)).round() - step * 10f64.powi(d as i32)).abs() > 1e-6
    {
        d += 1;
    }
    d
}

impl Axis {
    /// A linear axis from `lo` to at least `hi`, ends rounded to ticks.
    fn linear(label: &str, lo: f64, hi: f64, fmt: Fmt) -> Axis {
        let hi = if hi > lo { hi } else { lo + 1.0 };
        let step = nice_step(hi - lo, 6.0);
        let lo = (lo / step + 1e-9).floor() * step;
        let hi = (hi / step - 1e-9).ceil() * step;
        let n = ((hi - lo) / step).round() as usize;
        let ticks = (0..=n).map(|i| lo + i as f64 * step).collect();
        Axis {
            label: label.into(),
            lo,
            hi,
            log: false,
            ticks,
            minor: Vec::new(),
            fmt,
        }
    }

    /// A logarithmic axis covering `min..max` (both positive), ends at 1, 2 or 5 × 10^k.
    fn log(label: &str, min: f64, max: f64, fmt: Fmt) -> Axis {
        let max = if max.is_finite() && max > 0.0 {
            max
        } else {
            1.0
        };
        let min = if min.is_finite() && min > 0.0 && min <= max {
            min
        } else {
            max / 1000.0
        };
        let b = max.log10().ceil() as i32;
        let a = (min.log10().floor() as i32).clamp(b - 12, b - 1);
        let steps = |e: i32| [1.0, 2.0, 5.0].map(|m| m * 10f64.powi(e));
        let lo = steps(a)
            .into_iter()
            .rfind(|&v| v <= min * (1.0 + 1e-9))
            .unwrap_or(10f64.powi(a));
        let hi = steps(b - 1)
            .into_iter()
            .chain([10f64.powi(b)])
            .find(|&v| v >= max * (1.0 - 1e-9))
            .unwrap_or(10f64.powi(b));
        let dense = hi / lo <= 2000.0;
        let mut ticks = Vec::new();
        let mut minor = Vec::new();
        for e in a..=b {
            for (i, v) in steps(e).into_iter().enumerate() {
                if v < lo * (1.0 - 1e-9) || v > hi * (1.0 + 1e-9) {
                    continue;
                }
                if i == 0 || dense {
                    ticks.push(v);
                } else {
                    minor.push(v);
                }
            }
        }
        Axis {
            label: label.into(),
            lo,
            hi,
            log: true,
            ticks,
            minor,
            fmt,
        }
    }

    /// The traffic axis: a tick at every multiplier when there are few whole ones.
    fn traffic(label: &str, values: &[f64]) -> Axis {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        v.sort_by(f64::total_cmp);
        v.dedup();
        let (min, max) = match (v.first(), v.last()) {
            (Some(&a), Some(&b)) if b > a => (a, b),
            (Some(&a), _) => (a - 0.5, a + 0.5),
            _ => (0.0, 1.0),
        };
        let pad = (max - min) * 0.03;
        let whole = v.iter().all(|x| x.fract() == 0.0);
        let ticks = if whole && v.len() <= 20 {
            v.clone()
        } else {
            let step = nice_step(max - min, 8.0);
            let first = (min / step).ceil() * step;
            let n = ((max - first) / step + 1e-9).floor() as usize;
            (0..=n).map(|i| first + i as f64 * step).collect()
        };
        Axis {
            label: label.into(),
            lo: min - pad,
            hi: max + pad,
            log: false,
            ticks,
            minor: Vec::new(),
            fmt: Fmt::Traffic,
        }
    }

    /// Data value → drawing coordinate.
    fn t(&self, v: f64) -> f64 {
        if self.log { v.max(self.lo).log10() } else { v }
    }

    fn tick_label(&self, tv: f64) -> String {
        let v = if self.log { 10f64.powf(tv) } else { tv };
        let decimals = if self.log {
            if v >= 1.0 { 0 } else { decimals_for(v) }
        } else if self.ticks.len() >= 2 {
            decimals_for(self.ticks[1] - self.ticks[0])
        } else {
            2
        };
        let n = trim_num(v, decimals);
        match self.fmt {
            Fmt::Plain => n,
            Fmt::Traffic => format!("{n}x"),
            Fmt::Percent => format!("{n}%"),
            Fmt::Dollars => format!("${n}"),
        }
    }

    fn coord(&self) -> Ticked {
        Ticked {
            lo: self.t(self.lo),
            hi: self.t(self.hi),
            bold: self.ticks.iter().map(|&v| self.t(v)).collect(),
            light: self.minor.iter().map(|&v| self.t(v)).collect(),
        }
    }

    fn max_label_width(&self) -> i32 {
        self.ticks
            .iter()
            .map(|&v| text_size(&self.tick_label(self.t(v)), TICK_SIZE, false).0)
            .max()
            .unwrap_or(20)
    }
}

/// A linear plotters coordinate with the grid lines we chose (ticks in drawing units).
struct Ticked {
    lo: f64,
    hi: f64,
    bold: Vec<f64>,
    light: Vec<f64>,
}

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let span = self.hi - self.lo;
        if span == 0.0 {
            return (limit.0 + limit.1) / 2;
        }
        let f = ((v - self.lo) / span).clamp(-1.0, 2.0);
        limit.0 + ((limit.1 - limit.0) as f64 * f + 1e-3).floor() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.light.clone()
        } else {
            self.bold.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Shape {
    Circle,
    Diamond,
}

enum Layer {
    Line {
        pts: Vec<(f64, f64)>,
        color: RGBColor,
        width: u32,
        dash: bool,
    },
    /// Shaded area between two curves over the same x values.
    Band {
        upper: Vec<(f64, f64)>,
        lower: Vec<(f64, f64)>,
        color: RGBColor,
    },
    Markers {
        pts: Vec<(f64, f64)>,
        color: RGBColor,
        shape: Shape,
        filled: bool,
        size: i32,
    },
    /// A horizontal reference line across the panel with a label above it on the left.
    HLine {
        y: f64,
        color: RGBColor,
        label: String,
    },
    /// Labels beside points, placed so that they overlap neither each other nor the points.
    PointLabels { items: Vec<(f64, f64, String)> },
}

struct Panel {
    title: Option<String>,
    x: Axis,
    y: Axis,
    layers: Vec<Layer>,
}

#[derive(Clone, Copy, PartialEq)]
enum Key {
    Line { dash: bool },
    LineMarker,
    Marker { shape: Shape, filled: bool },
    Band,
}

struct Entry {
    label: String,
    note: String,
    color: RGBColor,
    key: Key,
    /// Start a new legend row before this entry.
    newline: bool,
}

fn entry(label: impl Into<String>, color: RGBColor, key: Key) -> Entry {
    Entry {
        label: label.into(),
        note: String::new(),
        color,
        key,
        newline: false,
    }
}

/// An entry whose `note` (e.g. " (knee 3x)") is dropped first when space is short.
fn entry_with_note(label: &str, note: String, color: RGBColor, key: Key) -> Entry {
    Entry {
        note,
        ..entry(label, color, key)
    }
}

struct Figure {
    title: String,
    subtitle: String,
    panels: Vec<Panel>,
    cols: usize,
    legend: Vec<Entry>,
}

// ---------------------------------------------------------------------------------------------
// Drawing.

const TITLE_SIZE: u32 = 27;
const SUBTITLE_SIZE: u32 = 17;
const TICK_SIZE: u32 = 16;
const DESC_SIZE: u32 = 18;
const LEGEND_SIZE: u32 = 17;
const PANEL_TITLE_SIZE: u32 = 17;
const SIDE: i32 = 22;
const LEGEND_ROW: i32 = 25;
const SWATCH: i32 = 34;

trait OrMsg<T> {
    fn m(self) -> Result<T, String>;
}

impl<T, E: std::fmt::Display> OrMsg<T> for Result<T, E> {
    fn m(self) -> Result<T, String> {
        self.map_err(|e| e.to_string())
    }
}

/// Legend rows: for each row, its font size and (entry index, x offset, label as drawn).
/// Entries between forced line breaks form a group; a group that needs more than one row is laid
/// out in aligned columns, in a slightly smaller font if that gives it a second column.
type LegendRow = (u32, Vec<(usize, i32, String)>);

fn legend_rows(legend: &[Entry], max_w: i32) -> Vec<LegendRow> {
    const GAP: i32 = 26;
    let mut rows: Vec<LegendRow> = Vec::new();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, e) in legend.iter().enumerate() {
        if groups.is_empty() || e.newline {
            groups.push(Vec::new());
        }
        groups.last_mut().expect("a group").push(i);
    }
    let measure = |i: usize, size: u32, max: i32| {
        let e = &legend[i];
        let full = format!("{}{}", e.label, e.note);
        let room = max - SWATCH - 8;
        let label = if text_size(&full, size, false).0 <= room {
            full
        } else {
            fit(&e.label, size, false, room)
        };
        let w = SWATCH + 8 + text_size(&label, size, false).0;
        (i, label, w)
    };
    for (gi, g) in groups.into_iter().enumerate() {
        let labels: Vec<(usize, String, i32)> =
            g.iter().map(|&i| measure(i, LEGEND_SIZE, max_w)).collect();
        let total: i32 = labels.iter().map(|(_, _, w)| w + GAP).sum::<i32>() - GAP;
        if gi > 0 && total > max_w {
            // Keys after the series: wrapped like words.
            let mut row = Vec::new();
            let mut x = 0;
            for (i, l, w) in labels {
                if x > 0 && x + w > max_w {
                    rows.push((LEGEND_SIZE, std::mem::take(&mut row)));
                    x = 0;
                }
                row.push((i, x, l));
                x += w + GAP;
            }
            rows.push((LEGEND_SIZE, row));
            continue;
        }
        if total <= max_w {
            let mut x = 0;
            let row = labels
                .into_iter()
                .map(|(i, l, w)| {
                    let at = x;
                    x += w + GAP;
                    (i, at, l)
                })
                .collect();
            rows.push((LEGEND_SIZE, row));
            continue;
        }
        let mut size = LEGEND_SIZE;
        let cols = loop {
            let widest = g
                .iter()
                .map(|&i| measure(i, size, max_w).2)
                .max()
                .unwrap_or(0);
            let cols = ((max_w + GAP) / (widest + GAP)).max(1) as usize;
            if cols >= 2 || size <= LEGEND_SIZE - 3 {
                break cols.max(if g.len() > 3 { 2 } else { 1 });
            }
            size -= 1;
        };
        let col_w = max_w / cols as i32;
        for chunk in g.chunks(cols) {
            let row = chunk
                .iter()
                .enumerate()
                .map(|(c, &i)| {
                    let (_, l, _) = measure(i, size, col_w - GAP);
                    (i, c as i32 * col_w, l)
                })
                .collect();
            rows.push((size, row));
        }
    }
    rows
}

fn draw_key<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    e: &Entry,
    x: i32,
    yc: i32,
) -> Result<(), String> {
    let line = |dash: bool| -> Result<(), String> {
        if dash {
            for k in 0..3 {
                let x0 = x + k * 13;
                root.draw(&PathElement::new(
                    vec![(x0, yc), (x0 + 8, yc)],
                    e.color.stroke_width(3),
                ))
                .m()?;
            }
            Ok(())
        } else {
            root.draw(&PathElement::new(
                vec![(x, yc), (x + SWATCH, yc)],
                e.color.stroke_width(3),
            ))
            .m()
        }
    };
    match e.key {
        Key::Line { dash } => line(dash)?,
        Key::LineMarker => {
            line(false)?;
            root.draw(&Circle::new((x + SWATCH / 2, yc), 4, e.color.filled()))
                .m()?;
        }
        Key::Marker { shape, filled } => {
            marker(root, (x + SWATCH / 2, yc), shape, filled, 6, e.color)?;
        }
        Key::Band => {
            root.draw(&Rectangle::new(
                [(x, yc - 7), (x + SWATCH, yc + 7)],
                e.color.mix(0.2).filled(),
            ))
            .m()?;
            root.draw(&PathElement::new(
                vec![(x, yc), (x + SWATCH, yc)],
                e.color.stroke_width(2),
            ))
            .m()?;
        }
    }
    Ok(())
}

/// A marker centred on a backend pixel.
fn marker<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (x, y): (i32, i32),
    shape: Shape,
    filled: bool,
    s: i32,
    color: RGBColor,
) -> Result<(), String> {
    match shape {
        Shape::Circle => {
            if filled {
                area.draw(&Circle::new((x, y), s, color.filled())).m()?;
            } else {
                area.draw(&Circle::new((x, y), s, WHITE.filled())).m()?;
                area.draw(&Circle::new((x, y), s, color.stroke_width(2)))
                    .m()?;
            }
        }
        Shape::Diamond => {
            let pts = vec![
                (x, y - s - 2),
                (x + s + 2, y),
                (x, y + s + 2),
                (x - s - 2, y),
            ];
            let fill = if filled { color } else { WHITE };
            area.draw(&Polygon::new(pts.clone(), fill.filled())).m()?;
            let mut outline = pts;
            outline.push(outline[0]);
            area.draw(&PathElement::new(outline, BLACK.stroke_width(2)))
                .m()?;
        }
    }
    Ok(())
}

fn draw_figure<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    f: &Figure,
) -> Result<(), String> {
    let (w, h) = (WIDTH as i32, HEIGHT as i32);
    root.fill(&WHITE).m()?;
    let inner = w - 2 * SIDE;
    let mut y = 14;
    let title = fit(&f.title, TITLE_SIZE, true, inner);
    root.draw(&Text::new(title, (SIDE, y), style(TITLE_SIZE, true, INK)))
        .m()?;
    y += text_size("Ag", TITLE_SIZE, true).1 + 12;
    for line in wrap(&f.subtitle, SUBTITLE_SIZE, inner, 2) {
        root.draw(&Text::new(
            line,
            (SIDE, y),
            style(SUBTITLE_SIZE, false, MUTED),
        ))
        .m()?;
        y += SUBTITLE_SIZE as i32 + 5;
    }
    y += 4;
    let rows = legend_rows(&f.legend, inner);
    let legend_h = rows.len() as i32 * LEGEND_ROW + if rows.is_empty() { 6 } else { 14 };
    let plot = root.margin(y, legend_h, 6, 6);
    let cols = f.cols.max(1);
    let nrows = f.panels.len().div_ceil(cols);
    let areas = plot.split_evenly((nrows.max(1), cols));
    for (area, p) in areas.iter().zip(&f.panels) {
        draw_panel(root, area, p)?;
    }
    let mut ly = h - legend_h + 8 + LEGEND_ROW / 2;
    for (size, row) in rows {
        for (i, x, label) in row {
            let e = &f.legend[i];
            draw_key(root, e, SIDE + x, ly)?;
            root.draw(&Text::new(
                label,
                (SIDE + x + SWATCH + 8, ly),
                style(size, false, INK).pos(Pos::new(HPos::Left, VPos::Center)),
            ))
            .m()?;
        }
        ly += LEGEND_ROW;
    }
    Ok(())
}

fn overlaps(a: (i32, i32, i32, i32), b: (i32, i32, i32, i32)) -> bool {
    a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3
}

fn draw_panel<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    area: &DrawingArea<DB, Shift>,
    p: &Panel,
) -> Result<(), String> {
    let (x, y) = (&p.x, &p.y);
    let mut b = ChartBuilder::on(area);
    b.margin_top(10)
        .margin_right(28)
        .margin_left(8)
        .margin_bottom(4)
        .x_label_area_size(TICK_SIZE as i32 + DESC_SIZE as i32 + 22)
        .y_label_area_size(y.max_label_width() + DESC_SIZE as i32 + 26);
    if let Some(t) = &p.title {
        let (aw, _) = area.dim_in_pixel();
        let t = fit(t, PANEL_TITLE_SIZE, true, aw as i32 - 20);
        b.caption(t, style(PANEL_TITLE_SIZE, true, INK));
    }
    let mut chart = b.build_cartesian_2d(x.coord(), y.coord()).m()?;
    let xf = |v: &f64| x.tick_label(*v);
    let yf = |v: &f64| y.tick_label(*v);
    chart
        .configure_mesh()
        .x_desc(x.label.as_str())
        .y_desc(y.label.as_str())
        .x_label_formatter(&xf)
        .y_label_formatter(&yf)
        .label_style(style(TICK_SIZE, false, MUTED))
        .axis_desc_style(style(DESC_SIZE, false, INK))
        .bold_line_style(RGBColor(222, 222, 222))
        .light_line_style(RGBColor(242, 242, 242))
        .axis_style(RGBColor(120, 120, 120))
        .draw()
        .m()?;
    let tp = |(a, b): (f64, f64)| (x.t(a), y.t(b));
    for layer in &p.layers {
        match layer {
            Layer::Line {
                pts,
                color,
                width,
                dash,
            } => {
                let pts: Vec<(f64, f64)> = pts.iter().copied().map(tp).collect();
                if *dash {
                    chart
                        .draw_series(DashedLineSeries::new(pts, 9, 6, color.stroke_width(*width)))
                        .m()?;
                } else {
                    chart
                        .draw_series(LineSeries::new(pts, color.stroke_width(*width)))
                        .m()?;
                }
            }
            Layer::Band {
                upper,
                lower,
                color,
            } => {
                let mut poly: Vec<(f64, f64)> = upper.iter().copied().map(tp).collect();
                poly.extend(lower.iter().rev().copied().map(tp));
                chart
                    .draw_series(std::iter::once(Polygon::new(
                        poly,
                        color.mix(0.18).filled(),
                    )))
                    .m()?;
            }
            Layer::Markers {
                pts,
                color,
                shape,
                filled,
                size,
            } => {
                for &pt in pts {
                    let (px, py) = chart.backend_coord(&tp(pt));
                    marker(root, (px, py), *shape, *filled, *size, *color)?;
                }
            }
            Layer::HLine {
                y: yv,
                color,
                label,
            } => {
                let ty = y.t(*yv);
                chart
                    .draw_series(DashedLineSeries::new(
                        vec![(x.t(x.lo), ty), (x.t(x.hi), ty)],
                        12,
                        6,
                        color.stroke_width(2),
                    ))
                    .m()?;
                if label.is_empty() {
                    continue;
                }
                let (px, py) = chart.backend_coord(&(x.t(x.lo), ty));
                let (tw, th) = text_size(label, TICK_SIZE, true);
                let (lx, ly) = (px + 8, py - th - 8);
                root.draw(&Rectangle::new(
                    [(lx - 4, ly - 3), (lx + tw + 4, ly + th + 4)],
                    WHITE.mix(0.85).filled(),
                ))
                .m()?;
                root.draw(&Text::new(
                    label.clone(),
                    (lx, ly),
                    style(TICK_SIZE, true, *color),
                ))
                .m()?;
            }
            Layer::PointLabels { items } => {
                let (xs, ys) = chart.plotting_area().get_pixel_range();
                let mut taken: Vec<(i32, i32, i32, i32)> = items
                    .iter()
                    .map(|&(a, b, _)| {
                        let (px, py) = chart.backend_coord(&tp((a, b)));
                        (px - 9, py - 9, px + 9, py + 9)
                    })
                    .collect();
                for &(a, b, ref text) in items {
                    let (px, py) = chart.backend_coord(&tp((a, b)));
                    let text = fit(text, LEGEND_SIZE, false, (xs.end - xs.start) / 2);
                    let (tw, th) = text_size(&text, LEGEND_SIZE, false);
                    let candidates = [
                        (px + 12, py - th / 2),
                        (px - 12 - tw, py - th / 2),
                        (px - tw / 2, py - 14 - th),
                        (px - tw / 2, py + 14),
                        (px + 12, py - th - 12),
                        (px + 12, py + 12),
                        (px - 12 - tw, py - th - 12),
                        (px - 12 - tw, py + 12),
                    ];
                    let inside = |r: (i32, i32, i32, i32)| {
                        r.0 >= xs.start && r.2 <= xs.end && r.1 >= ys.start && r.3 <= ys.end
                    };
                    let rect = |(lx, ly): (i32, i32)| (lx - 2, ly - 2, lx + tw + 2, ly + th + 3);
                    let pick = candidates
                        .iter()
                        .copied()
                        .find(|&c| inside(rect(c)) && !taken.iter().any(|&t| overlaps(t, rect(c))))
                        .or_else(|| candidates.iter().copied().find(|&c| inside(rect(c))))
                        .unwrap_or(candidates[0]);
                    taken.push(rect(pick));
                    root.draw(&Text::new(text, pick, style(LEGEND_SIZE, false, INK)))
                        .m()?;
                }
            }
        }
    }
    Ok(())
}

fn render(stem: &str, title: String, caption: String, fig: &Figure) -> Option<Chart> {
    register_fonts();
    let mut svg = String::new();
    let drawn = (|| -> Result<(), String> {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        draw_figure(&root, fig)?;
        root.present().m()
    })();
    let mut rgb = vec![0u8; WIDTH as usize * HEIGHT as usize * 3];
    let drawn = drawn.and_then(|()| {
        let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
        draw_figure(&root, fig)?;
        root.present().m()
    });
    if let Err(e) = drawn {
        eprintln!("archsim: could not draw the `{stem}` chart: {e}");
        return None;
    }
    Some(Chart {
        stem: stem.to_string(),
        title,
        caption,
        svg,
        png: png::encode_rgb(&rgb, WIDTH, HEIGHT),
    })
}

// ---------------------------------------------------------------------------------------------
// The charts.

const TRAFFIC_LABEL: &str = "Traffic (multiple of the model's base request rate)";

fn traffic_values(series: &[Series]) -> Vec<f64> {
    series
        .iter()
        .flat_map(|s| s.points.iter().map(|r| r.traffic))
        .collect()
}

/// A series drawn as a line through its points, with a dot on each.
fn push_series(layers: &mut Vec<Layer>, pts: Vec<(f64, f64)>, color: RGBColor) {
    layers.push(Layer::Line {
        pts: pts.clone(),
        color,
        width: 3,
        dash: false,
    });
    layers.push(Layer::Markers {
        pts,
        color,
        shape: Shape::Circle,
        filled: true,
        size: 4,
    });
}

/// The diamond that marks a model's knee.
fn knee_marker(pt: (f64, f64), color: RGBColor) -> Layer {
    Layer::Markers {
        pts: vec![pt],
        color,
        shape: Shape::Diamond,
        filled: true,
        size: 7,
    }
}
fn knee_point<'a>(s: &'a Series) -> Option<&'a RunSummary> {
    s.knee.and_then(|k| k.max_traffic).and_then(|t| s.at(t))
}

/// " (knee 3x)", " (misses the SLO at 1x)", " (meets the SLO up to 10x)".
fn knee_note(s: &Series) -> String {
    let Some(k) = s.knee else {
        return String::new();
    };
    match (k.max_traffic, k.first_failure) {
        (Some(t), Some(_)) => format!(" (knee {})", fmt_traffic(t)),
        (Some(t), None) => format!(" (within the SLO up to {})", fmt_traffic(t)),
        (None, Some(t)) => format!(" (misses the SLO at {})", fmt_traffic(t)),
        (None, None) => String::new(),
    }
}

fn series_legend(all: &[Series]) -> Vec<Entry> {
    all.iter()
        .map(|s| entry_with_note(&s.label, knee_note(s), s.color, Key::LineMarker))
        .collect()
}

fn distinct_models<'a>(all: &'a [Series<'a>]) -> Vec<&'a str> {
    let mut v: Vec<&str> = Vec::new();
    for s in all {
        if !v.contains(&s.model) {
            v.push(s.model);
        }
    }
    v
}

fn title_with_models(what: &str, all: &[Series]) -> String {
    let prefix = format!("{what}: ");
    let room = WIDTH as i32 - 2 * SIDE - text_size(&prefix, TITLE_SIZE, true).0;
    format!(
        "{prefix}{}",
        names_phrase(&distinct_models(all), TITLE_SIZE, room)
    )
}

fn latency_chart(out: &SweepOutput, all: &[Series]) -> Option<Chart> {
    let slo = out.slo_p99_ms;
    let mut values: Vec<f64> = vec![slo];
    let mut any_ci = false;
    for s in all {
        for r in &s.points {
            values.push(r.latency_ms.p50);
            values.push(r.latency_ms.p99);
            if let Some(c) = r.ci95.latency_ms_p99 {
                any_ci = true;
                values.push(r.latency_ms.p99 + c);
            }
        }
    }
    let pos: Vec<f64> = values
        .iter()
        .copied()
        .filter(|v| v.is_finite() && *v > 0.0)
        .collect();
    let min = pos.iter().copied().fold(f64::INFINITY, f64::min);
    let max = pos.iter().copied().fold(0.0, f64::max);
    let log = min.is_finite() && max / min > 100.0;
    let y = if log {
        Axis::log("Latency (ms, log scale)", min, max, Fmt::Plain)
    } else {
        Axis::linear("Latency (ms)", 0.0, max * 1.05, Fmt::Plain)
    };
    let x = Axis::traffic(TRAFFIC_LABEL, &traffic_values(all));
    let mut layers = Vec::new();
    let mut any_unstable = false;
    for s in all {
        let ok = |v: f64| v.is_finite() && (!log || v > 0.0);
        let p99: Vec<(f64, f64)> = s
            .points
            .iter()
            .filter(|r| ok(r.latency_ms.p99))
            .map(|r| (r.traffic, r.latency_ms.p99))
            .collect();
        let p50: Vec<(f64, f64)> = s
            .points
            .iter()
            .filter(|r| ok(r.latency_ms.p50))
            .map(|r| (r.traffic, r.latency_ms.p50))
            .collect();
        let with_ci: Vec<&&RunSummary> = s
            .points
            .iter()
            .filter(|r| r.ci95.latency_ms_p99.is_some() && ok(r.latency_ms.p99))
            .collect();
        if with_ci.len() >= 2 {
            let c = |r: &RunSummary| r.ci95.latency_ms_p99.unwrap_or(0.0);
            layers.push(Layer::Band {
                upper: with_ci
                    .iter()
                    .map(|r| (r.traffic, r.latency_ms.p99 + c(r)))
                    .collect(),
                lower: with_ci
                    .iter()
                    .map(|r| (r.traffic, (r.latency_ms.p99 - c(r)).max(y.lo)))
                    .collect(),
                color: s.color,
            });
        }
        layers.push(Layer::Line {
            pts: p50,
            color: s.color,
            width: 2,
            dash: true,
        });
        layers.push(Layer::Line {
            pts: p99.clone(),
            color: s.color,
            width: 3,
            dash: false,
        });
        let (stable, unstable): (Vec<&RunSummary>, Vec<&RunSummary>) = s
            .points
            .iter()
            .filter(|r| ok(r.latency_ms.p99))
            .partition(|r| r.stable);
        any_unstable |= !unstable.is_empty();
        layers.push(Layer::Markers {
            pts: stable
                .iter()
                .map(|r| (r.traffic, r.latency_ms.p99))
                .collect(),
            color: s.color,
            shape: Shape::Circle,
            filled: true,
            size: 4,
        });
        layers.push(Layer::Markers {
            pts: unstable
                .iter()
                .map(|r| (r.traffic, r.latency_ms.p99))
                .collect(),
            color: s.color,
            shape: Shape::Circle,
            filled: false,
            size: 5,
        });
    }
    layers.push(Layer::HLine {
        y: slo,
        color: LIMIT,
        label: format!("SLO: p99 ≤ {} ms", trim_num(slo, 2)),
    });
    for s in all {
        if let Some(r) = knee_point(s)
            && r.latency_ms.p99 > 0.0
        {
            layers.push(knee_marker((r.traffic, r.latency_ms.p99), s.color));
        }
    }
    let mut legend = series_legend(all);
    let mut keys = vec![
        entry("p99 (solid)", INK, Key::Line { dash: false }),
        entry("p50 (dashed)", INK, Key::Line { dash: true }),
    ];
    if any_ci {
        keys.push(entry("95% confidence band (p99)", INK, Key::Band));
    }
    keys.push(entry(
        "knee: highest traffic meeting the SLO",
        INK,
        Key::Marker {
            shape: Shape::Diamond,
            filled: false,
        },
    ));
    if any_unstable {
        keys.push(entry(
            "queues still growing",
            INK,
            Key::Marker {
                shape: Shape::Circle,
                filled: false,
            },
        ));
    }
    keys[0].newline = true;
    legend.extend(keys);
    let reps = all
        .iter()
        .flat_map(|s| s.points.iter().map(|r| r.replications))
        .max()
        .unwrap_or(1);
    let subtitle = format!(
        "End-to-end latency of successful requests; red line: the SLO (p99 ≤ {} ms). {}",
        trim_num(slo, 2),
        if reps > 1 {
            format!("Points are means of {reps} replications.")
        } else {
            "One replication per point.".to_string()
        }
    );
    let caption = format!(
        "p99 (solid) and median p50 (dashed) latency against traffic, one colour per series. \
         The red dashed line is the SLO (p99 ≤ {} ms); a diamond marks each series' knee, the highest \
         traffic that still meets it.{}{}{}",
        trim_num(slo, 2),
        if any_ci {
            " Shaded bands are 95% confidence intervals of p99 over the replications."
        } else {
            ""
        },
        if log {
            " The latency axis is logarithmic: past saturation latency grows by orders of magnitude."
        } else {
            ""
        },
        if any_unstable {
            " Hollow circles mark points where queues were still growing at the end of the run: \
             there the latency is a lower bound, not a steady state."
        } else {
            ""
        }
    );
    let fig = Figure {
        title: title_with_models("Latency", all),
        subtitle,
        panels: vec![Panel {
            title: None,
            x,
            y,
            layers,
        }],
        cols: 1,
        legend,
    };
    render("latency", fig.title.clone(), caption, &fig)
}

fn throughput_chart(all: &[Series]) -> Option<Chart> {
    let max_offered = all
        .iter()
        .flat_map(|s| s.points.iter().map(|r| r.offered_rps))
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let max_tp = all
        .iter()
        .flat_map(|s| s.points.iter().map(|r| r.throughput_rps))
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let top = max_offered.max(max_tp).max(1.0);
    let x = Axis::linear(
        "Offered load (requests/s)",
        0.0,
        max_offered.max(1.0),
        Fmt::Plain,
    );
    let y = Axis::linear(
        "Throughput (successful requests/s)",
        0.0,
        top * 1.02,
        Fmt::Plain,
    );
    let mut layers = vec![Layer::Line {
        pts: vec![(0.0, 0.0), (x.hi.min(y.hi), x.hi.min(y.hi))],
        color: IDEAL,
        width: 2,
        dash: true,
    }];
    for s in all {
        let pts: Vec<(f64, f64)> = s
            .points
            .iter()
            .filter(|r| r.offered_rps.is_finite() && r.throughput_rps.is_finite())
            .map(|r| (r.offered_rps, r.throughput_rps))
            .collect();
        push_series(&mut layers, pts, s.color);
    }
    for s in all {
        if let Some(r) = knee_point(s) {
            layers.push(knee_marker((r.offered_rps, r.throughput_rps), s.color));
        }
    }
    let mut legend: Vec<Entry> = all
        .iter()
        .map(|s| {
            let peak = s
                .points
                .iter()
                .map(|r| r.throughput_rps)
                .filter(|v| v.is_finite())
                .fold(0.0, f64::max);
            let knee = knee_note(s);
            let note = match knee.strip_prefix(" (").and_then(|k| k.strip_suffix(')')) {
                Some(k) => format!(" ({k}; peak {} req/s)", trim_num(peak, 0)),
                None => format!(" (peak {} req/s)", trim_num(peak, 0)),
            };
            entry_with_note(&s.label, note, s.color, Key::LineMarker)
        })
        .collect();
    let mut ideal = entry(
        "ideal: every offered request served (y = x)",
        IDEAL,
        Key::Line { dash: true },
    );
    ideal.newline = true;
    legend.push(ideal);
    legend.push(entry(
        "knee",
        INK,
        Key::Marker {
            shape: Shape::Diamond,
            filled: false,
        },
    ));
    let fig = Figure {
        title: title_with_models("Throughput", all),
        subtitle: "Requests completed per second against requests offered per second. Where a line \
                   leaves the dashed diagonal and flattens, the system has saturated: extra traffic \
                   only queues or fails."
            .into(),
        panels: vec![Panel {
            title: None,
            x,
            y,
            layers,
        }],
        cols: 1,
        legend,
    };
    let caption = "Throughput (successful requests per second) against offered load. On the dashed \
                   diagonal every request is served; the height of the plateau where a line flattens \
                   is the system's capacity. Diamonds mark the knees."
        .to_string();
    render("throughput", fig.title.clone(), caption, &fig)
}

fn errors_chart(out: &SweepOutput, all: &[Series]) -> Option<Chart> {
    let budget = out.max_error_rate * 100.0;
    let max = all
        .iter()
        .flat_map(|s| s.points.iter().map(|r| r.error_rate * 100.0))
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let top = max.max(budget * 2.0).max(2.0);
    let x = Axis::traffic(TRAFFIC_LABEL, &traffic_values(all));
    let y = Axis::linear(
        "Error rate (% of requests dropped, failed or timed out)",
        0.0,
        top.min(100.0),
        Fmt::Percent,
    );
    let mut layers = Vec::new();
    for s in all {
        let pts: Vec<(f64, f64)> = s
            .points
            .iter()
            .filter(|r| r.error_rate.is_finite())
            .map(|r| (r.traffic, r.error_rate * 100.0))
            .collect();
        push_series(&mut layers, pts, s.color);
    }
    layers.push(Layer::HLine {
        y: budget,
        color: LIMIT,
        label: format!("error budget: {}%", trim_num(budget, 2)),
    });
    let clean: Vec<&str> = all
        .iter()
        .filter(|s| s.points.iter().all(|r| r.error_rate == 0.0))
        .map(|s| s.label.as_str())
        .collect();
    let subtitle = if clean.len() == all.len() {
        "No request was dropped, failed or timed out at any traffic level.".to_string()
    } else if clean.is_empty() {
        "Share of requests that were dropped (full queue), failed or timed out, by traffic."
            .to_string()
    } else {
        format!(
            "Share of requests dropped, failed or timed out. Never any errors (line on 0%): {}.",
            clean.join(", ")
        )
    };
    let fig = Figure {
        title: title_with_models("Errors", all),
        subtitle,
        panels: vec![Panel {
            title: None,
            x,
            y,
            layers,
        }],
        cols: 1,
        legend: series_legend(all),
    };
    let caption = format!(
        "Error rate (requests dropped by a full queue, failed, or timed out) against traffic. \
         The red dashed line is the error budget of the SLO ({}%). Lines on top of each other at 0% \
         mean those series had no errors.",
        trim_num(budget, 2)
    );
    render("errors", fig.title.clone(), caption, &fig)
}

/// The first traffic at which some component with workers is at least 95% busy, and the
/// bottleneck there.
pub(crate) fn saturation(points: &[&RunSummary]) -> Option<(f64, String)> {
    points
        .iter()
        .find(|r| {
            r.components
                .0
                .iter()
                .any(|(_, c)| c.workers.is_some() && c.utilization >= 0.95)
        })
        .map(|r| (r.traffic, r.bottleneck.clone()))
}

fn bottleneck_sentence(points: &[&RunSummary]) -> String {
    match saturation(points) {
        Some((t, b)) => format!(
            "Bottleneck: {b}, saturated (at least 95% busy) from {}: requests queue there and \
             latency climbs.",
            fmt_traffic(t)
        ),
        None => match points.last() {
            Some(r) => {
                let u = r
                    .components
                    .get(&r.bottleneck)
                    .map(|c| c.utilization)
                    .unwrap_or(0.0);
                format!(
                    "No component reaches 95% busy; the busiest is {} ({:.0}% at {}).",
                    r.bottleneck,
                    100.0 * u,
                    fmt_traffic(r.traffic)
                )
            }
            None => String::new(),
        },
    }
}

fn utilization_chart(model: &str, stem: &str, all: &[Series]) -> Option<Chart> {
    let mine: Vec<&Series> = all.iter().filter(|s| s.model == model).collect();
    let first = mine.first()?;
    let shown = &mine[..mine.len().min(MAX_FACETS)];
    // Components with workers, in model order (the same in every combination of one model),
    // with their sizes when every combination shown has the same.
    let mut comps: Vec<(String, String)> = Vec::new();
    for s in shown {
        for r in &s.points {
            for (name, c) in &r.components.0 {
                if c.workers.is_some() && !comps.iter().any(|(n, _)| n == name) {
                    comps.push((name.clone(), name.clone()));
                }
            }
        }
    }
    for (name, desc) in &mut comps {
        let sizes: Vec<(u32, Option<u32>)> = shown
            .iter()
            .flat_map(|s| s.points.iter())
            .filter_map(|r| r.components.get(name).map(|c| (c.instances, c.workers)))
            .collect();
        if let Some(&first) = sizes.first()
            && sizes.iter().all(|&x| x == first)
        {
            *desc = match first {
                (1, Some(w)) => format!("{name} ({w} workers)"),
                (i, Some(w)) => format!("{name} ({i} instances × {w} workers)"),
                _ => name.clone(),
            };
        }
    }
    let facets = shown.len() > 1;
    let mut panels = Vec::new();
    for s in shown {
        let (xl, yl) = if facets {
            ("Traffic (× base rate)", "Workers busy (%)")
        } else {
            (TRAFFIC_LABEL, "Utilization (% of workers busy)")
        };
        let x = Axis::traffic(xl, &traffic_values(std::slice::from_ref(*s)));
        let mut y = Axis::linear(yl, 0.0, 100.0, Fmt::Percent);
        y.hi = 108.0;
        let mut layers = vec![Layer::HLine {
            y: 100.0,
            color: LIMIT,
            // In small panels the line is explained by the legend instead.
            label: if facets {
                String::new()
            } else {
                "100%: every worker busy".into()
            },
        }];
        for (i, (name, _)) in comps.iter().enumerate() {
            let pts: Vec<(f64, f64)> = s
                .points
                .iter()
                .filter_map(|r| {
                    r.components
                        .get(name)
                        .map(|c| (r.traffic, 100.0 * c.utilization))
                })
                .collect();
            push_series(&mut layers, pts, color(i));
        }
        let title = facets.then(|| {
            let params = series_label("", s.parameters);
            let params = params.trim_start_matches(" · ").to_string();
            match saturation(&s.points) {
                Some((t, b)) => format!("{params}: {b} saturates at {}", fmt_traffic(t)),
                None => format!("{params}: nothing saturates"),
            }
        });
        panels.push(Panel {
            title,
            x,
            y,
            layers,
        });
    }
    let mut legend: Vec<Entry> = comps
        .iter()
        .enumerate()
        .map(|(i, (_, d))| entry(d.clone(), color(i), Key::LineMarker))
        .collect();
    if facets {
        legend.push(entry(
            "100%: every worker busy",
            LIMIT,
            Key::Line { dash: true },
        ));
    }
    let subtitle = if facets {
        let mut s = "One panel per combination of swept parameters; each panel title names its \
                     bottleneck and the traffic from which it is at least 95% busy."
            .to_string();
        if mine.len() > shown.len() {
            s.push_str(&format!(
                " First {} of {} combinations shown.",
                shown.len(),
                mine.len()
            ));
        }
        s
    } else {
        bottleneck_sentence(&first.points)
    };
    let title = if facets {
        format!("Utilization per component: {model}")
    } else {
        format!("Utilization per component: {}", first.label)
    };
    let caption = format!(
        "How busy each component of {model} is (time-average share of its workers in use) as traffic \
         grows. {} The component that reaches 100% first limits throughput; components without \
         workers (load balancers) are not shown.",
        if facets {
            mine.iter()
                .take(MAX_FACETS)
                .map(|s| {
                    format!(
                        "{}: {}",
                        series_label("", s.parameters).trim_start_matches(" · "),
                        bottleneck_sentence(&s.points)
                    )
                })
                .collect::<Vec<_>>()
                .join(" ")
        } else {
            bottleneck_sentence(&first.points)
        }
    );
    let cols = match shown.len() {
        1 => 1,
        2 | 4 => 2,
        _ => 3,
    };
    let fig = Figure {
        title: fit(&title, TITLE_SIZE, true, WIDTH as i32 - 2 * SIDE),
        subtitle,
        panels,
        cols,
        legend,
    };
    render(stem, title, caption, &fig)
}

fn cost_chart(out: &SweepOutput, all: &[Series]) -> Option<Chart> {
    let cost_of = |m: &str| {
        out.models
            .iter()
            .find(|i| i.name == m)
            .and_then(|i| i.monthly_cost)
            .filter(|c| c.is_finite() && *c >= 0.0)
    };
    let costed: Vec<(&Series, f64)> = all
        .iter()
        .filter_map(|s| cost_of(s.model).map(|c| (s, c)))
        .filter(|(s, _)| !s.points.is_empty())
        .collect();
    if costed.is_empty() {
        return None;
    }
    // The highest traffic every costed series was run at.
    let common = costed[0]
        .0
        .points
        .iter()
        .map(|r| r.traffic)
        .filter(|&t| costed.iter().all(|(s, _)| s.at(t).is_some()))
        .fold(None, |m: Option<f64>, t| Some(m.map_or(t, |m| m.max(t))));
    let pick = |s: &Series| -> Option<RunSummary> {
        let r = match common {
            Some(t) => s.at(t),
            None => s.points.last().copied(),
        }?;
        Some(r.clone())
    };
    let pts: Vec<(&Series, f64, RunSummary)> = costed
        .iter()
        .filter_map(|&(s, c)| pick(s).map(|r| (s, c, r)))
        .filter(|(_, _, r)| r.latency_ms.p99.is_finite() && r.latency_ms.p99 > 0.0)
        .collect();
    if pts.is_empty() {
        return None;
    }
    let slo = out.slo_p99_ms;
    let lat: Vec<f64> = pts
        .iter()
        .map(|(_, _, r)| r.latency_ms.p99)
        .chain([slo])
        .collect();
    let (lmin, lmax) = (
        lat.iter().copied().fold(f64::INFINITY, f64::min),
        lat.iter().copied().fold(0.0, f64::max),
    );
    let at = match common {
        Some(t) => format!("at {}", fmt_traffic(t)),
        None => "at each design's highest traffic".to_string(),
    };
    let y = if lmax / lmin > 100.0 {
        Axis::log(
            &format!("p99 latency {at} (ms, log scale)"),
            lmin,
            lmax,
            Fmt::Plain,
        )
    } else {
        Axis::linear(
            &format!("p99 latency {at} (ms)"),
            0.0,
            lmax * 1.15,
            Fmt::Plain,
        )
    };
    let costs: Vec<f64> = pts.iter().map(|(_, c, _)| *c).collect();
    let (cmin, cmax) = (
        costs.iter().copied().fold(f64::INFINITY, f64::min),
        costs.iter().copied().fold(0.0, f64::max),
    );
    let x = if cmin > 0.0 && cmax / cmin > 50.0 {
        let mut a = Axis::log("Monthly cost ($, log scale)", cmin, cmax, Fmt::Dollars);
        a.lo /= 2.0;
        a.hi *= 2.0;
        a
    } else {
        Axis::linear("Monthly cost ($)", 0.0, cmax.max(1.0) * 1.25, Fmt::Dollars)
    };
    let mut layers = vec![Layer::HLine {
        y: slo,
        color: LIMIT,
        label: format!("SLO: p99 ≤ {} ms", trim_num(slo, 2)),
    }];
    for (s, c, r) in &pts {
        layers.push(Layer::Markers {
            pts: vec![(*c, r.latency_ms.p99)],
            color: s.color,
            shape: Shape::Circle,
            filled: true,
            size: 8,
        });
    }
    layers.push(Layer::PointLabels {
        items: pts
            .iter()
            .map(|(s, c, r)| {
                (
                    *c,
                    r.latency_ms.p99,
                    format!("{}: ${}/month", s.label, trim_num(*c, 2)),
                )
            })
            .collect(),
    });
    let legend = pts
        .iter()
        .map(|(s, _, r)| {
            entry_with_note(
                &s.label,
                format!(": p99 {} ms{}", fmt_ms(r.latency_ms.p99), knee_note(s)),
                s.color,
                Key::Marker {
                    shape: Shape::Circle,
                    filled: true,
                },
            )
        })
        .collect();
    let title = format!("Cost vs p99 latency {at}");
    let fig = Figure {
        title: title.clone(),
        subtitle: format!(
            "One point per design: what it costs per month and how slow it is {at}. Lower is \
             faster; points under the red line meet the SLO, and the leftmost of them is the \
             cheapest design that does."
        ),
        panels: vec![Panel {
            title: None,
            x,
            y,
            layers,
        }],
        cols: 1,
        legend,
    };
    let caption = format!(
        "Monthly cost against p99 latency {at}, one point per design. Designs below the red SLO \
         line meet it at that traffic; the cheapest of those is the cheapest design that holds it."
    );
    render("cost", title, caption, &fig)
}

/// Every chart of the sweep, in the order the report shows them.
pub fn render_all(out: &SweepOutput) -> Vec<Chart> {
    let all = series(out);
    if all.is_empty() {
        return Vec::new();
    }
    let mut charts = Vec::new();
    charts.extend(latency_chart(out, &all));
    charts.extend(throughput_chart(&all));
    charts.extend(errors_chart(out, &all));
    for (model, stem) in utilization_stems(out) {
        charts.extend(utilization_chart(&model, &stem, &all));
    }
    charts.extend(cost_chart(out, &all));
    charts
}

// ---------------------------------------------------------------------------------------------

/// A small deterministic PNG encoder: 8-bit RGB, adaptive row filters, zlib stream with one
/// fixed-Huffman deflate block and greedy LZ77 matching (32 KiB window, hash chains).
pub(crate) mod png {
    const CRC_TABLE: [u32; 256] = {
        let mut t = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            t[i] = c;
            i += 1;
        }
        t
    };

    pub fn crc32(parts: &[&[u8]]) -> u32 {
        let mut c = 0xFFFF_FFFFu32;
        for p in parts {
            for &b in *p {
                c = CRC_TABLE[((c ^ b as u32) & 0xFF) as usize] ^ (c >> 8);
            }
        }
        c ^ 0xFFFF_FFFF
    }

    fn adler32(data: &[u8]) -> u32 {
        let (mut a, mut b) = (1u32, 0u32);
        for chunk in data.chunks(5552) {
            for &x in chunk {
                a += x as u32;
                b += a;
            }
            a %= 65521;
            b %= 65521;
        }
        (b << 16) | a
    }

    struct Bits {
        out: Vec<u8>,
        acc: u64,
        n: u32,
    }

    impl Bits {
        /// `n` bits of `v`, least significant first.
        fn put(&mut self, v: u32, n: u32) {
            self.acc |= (v as u64) << self.n;
            self.n += n;
            while self.n >= 8 {
                self.out.push(self.acc as u8);
                self.acc >>= 8;
                self.n -= 8;
            }
        }
        /// A Huffman code (most significant bit first).
        fn code(&mut self, code: u32, len: u32) {
            let rev = code.reverse_bits() >> (32 - len);
            self.put(rev, len);
        }
        fn finish(mut self) -> Vec<u8> {
            if self.n > 0 {
                self.out.push(self.acc as u8);
            }
            self.out
        }
    }

    fn literal(b: &mut Bits, sym: u32) {
        match sym {
            0..=143 => b.code(0x30 + sym, 8),
            144..=255 => b.code(0x190 + sym - 144, 9),
            256..=279 => b.code(sym - 256, 7),
            _ => b.code(0xC0 + sym - 280, 8),
        }
    }

    const LEN_BASE: [u32; 29] = [
        3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115,
        131, 163, 195, 227, 258,
    ];
    const LEN_EXTRA: [u32; 29] = [
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
    ];
    const DIST_BASE: [u32; 30] = [
        1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
        2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
    ];
    const DIST_EXTRA: [u32; 30] = [
        0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12,
        13, 13,
    ];

    fn matched(b: &mut Bits, len: u32, dist: u32) {
        let i = LEN_BASE.iter().rposition(|&x| x <= len).expect("len ≥ 3");
        literal(b, 257 + i as u32);
        b.put(len - LEN_BASE[i], LEN_EXTRA[i]);
        let d = DIST_BASE
            .iter()
            .rposition(|&x| x <= dist)
            .expect("dist ≥ 1");
        b.code(d as u32, 5);
        b.put(dist - DIST_BASE[d], DIST_EXTRA[d]);
    }

    /// Raw deflate data: one final block with the fixed Huffman codes.
    fn deflate(data: &[u8]) -> Vec<u8> {
        const WINDOW: usize = 32 * 1024;
        const HASH: usize = 1 << 15;
        const MAX_CHAIN: usize = 48;
        let mut b = Bits {
            out: Vec::with_capacity(data.len() / 8),
            acc: 0,
            n: 0,
        };
        b.put(1, 1); // final block
        b.put(1, 2); // fixed Huffman
        let mut head = vec![usize::MAX; HASH];
        let mut prev = vec![usize::MAX; WINDOW];
        let hash = |i: usize| {
            ((data[i] as usize) << 10 ^ (data[i + 1] as usize) << 5 ^ data[i + 2] as usize)
                & (HASH - 1)
        };
        let insert = |head: &mut Vec<usize>, prev: &mut Vec<usize>, i: usize| {
            if i + 2 < data.len() {
                let h = hash(i);
                prev[i % WINDOW] = head[h];
                head[h] = i;
            }
        };
        let mut i = 0;
        while i < data.len() {
            let mut best = (0usize, 0usize);
            if i + 2 < data.len() {
                let max_len = (data.len() - i).min(258);
                let mut cand = head[hash(i)];
                let mut chain = 0;
                while cand != usize::MAX && i - cand <= WINDOW && chain < MAX_CHAIN {
                    let mut l = 0;
                    while l < max_len && data[cand + l] == data[i + l] {
                        l += 1;
                    }
                    if l > best.0 {
                        best = (l, i - cand);
                        if l == max_len {
                            break;
                        }
                    }
                    let next = prev[cand % WINDOW];
                    if next == usize::MAX || next >= cand {
                        break;
                    }
                    cand = next;
                    chain += 1;
                }
            }
            if best.0 >= 3 {
                matched(&mut b, best.0 as u32, best.1 as u32);
                for k in i..i + best.0 {
                    insert(&mut head, &mut prev, k);
                }
                i += best.0;
            } else {
                literal(&mut b, data[i] as u32);
                insert(&mut head, &mut prev, i);
                i += 1;
            }
        }
        literal(&mut b, 256);
        b.finish()
    }

    fn paeth(a: u8, b: u8, c: u8) -> u8 {
        let p = a as i16 + b as i16 - c as i16;
        let (pa, pb, pc) = (
            (p - a as i16).abs(),
            (p - b as i16).abs(),
            (p - c as i16).abs(),
        );
        if pa <= pb && pa <= pc {
            a
        } else if pb <= pc {
            b
        } else {
            c
        }
    }

    /// Encodes 8-bit RGB pixels (row-major, `w * h * 3` bytes) as a PNG file.
    pub fn encode_rgb(rgb: &[u8], w: u32, h: u32) -> Vec<u8> {
        const BPP: usize = 3;
        let stride = w as usize * BPP;
        let mut raw = Vec::with_capacity((stride + 1) * h as usize);
        let zero = vec![0u8; stride];
        let mut cand = vec![0u8; stride];
        let mut best = vec![0u8; stride];
        for y in 0..h as usize {
            let row = &rgb[y * stride..(y + 1) * stride];
            let up = if y == 0 {
                &zero[..]
            } else {
                &rgb[(y - 1) * stride..y * stride]
            };
            let mut best_filter = 0u8;
            let mut best_score = u64::MAX;
            for filter in 0..5u8 {
                for i in 0..stride {
                    let a = if i >= BPP { row[i - BPP] } else { 0 };
                    let b = up[i];
                    let c = if i >= BPP { up[i - BPP] } else { 0 };
                    let pred = match filter {
                        0 => 0,
                        1 => a,
                        2 => b,
                        3 => ((a as u16 + b as u16) / 2) as u8,
                        _ => paeth(a, b, c),
                    };
                    cand[i] = row[i].wrapping_sub(pred);
                }
                let score: u64 = cand.iter().map(|&v| (v as i8).unsigned_abs() as u64).sum();
                if score < best_score {
                    best_score = score;
                    best_filter = filter;
                    std::mem::swap(&mut best, &mut cand);
                }
            }
            raw.push(best_filter);
            raw.extend_from_slice(&best);
        }
        let mut z = vec![0x78, 0x01];
        z.extend(deflate(&raw));
        z.extend(adler32(&raw).to_be_bytes());

        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut chunk = |kind: &[u8; 4], data: &[u8]| {
            png.extend((data.len() as u32).to_be_bytes());
            png.extend(kind);
            png.extend(data);
            png.extend(crc32(&[kind, data]).to_be_bytes());
        };
        let mut ihdr = Vec::new();
        ihdr.extend(w.to_be_bytes());
        ihdr.extend(h.to_be_bytes());
        ihdr.extend([8, 2, 0, 0, 0]); // 8 bits, RGB, deflate, adaptive filters, no interlace
        chunk(b"IHDR", &ihdr);
        for part in z.chunks(1 << 20) {
            chunk(b"IDAT", part);
        }
        chunk(b"IEND", &[]);
        png
    }
}
