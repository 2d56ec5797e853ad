//! Checking a raw model against itself: every reference resolved, every number in range, no cycle
//! of synchronous calls. All errors are collected (not just the first), each with the position of
//! the offending value and what was expected there.

use super::raw::*;
use super::span::{Path, Pos, Span, SpanMap};
use super::*;
use crate::dist::Dist;
use std::collections::HashMap;
use std::fmt;

/// One problem in a model file.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub span: Span,
    pub message: String,
    pub expected: Option<String>,
}

/// Why a model could not be loaded. Displays as `file:line:col: message` lines with the source
/// line and a caret under the offending value.
#[derive(Debug, Clone)]
pub struct LoadError {
    pub file: String,
    pub diagnostics: Vec<Diagnostic>,
    /// The file's text, for excerpts (absent when the file could not be read).
    pub text: Option<String>,
}

impl LoadError {
    pub fn io(path: &std::path::Path, e: &std::io::Error) -> LoadError {
        LoadError {
            file: path.display().to_string(),
            diagnostics: vec![Diagnostic {
                span: Span::default(),
                message: format!("cannot read the model file: {e}"),
                expected: Some("a readable RON model file".into()),
            }],
            text: None,
        }
    }
}

impl std::error::Error for LoadError {}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<&str> = self
            .text
            .as_deref()
            .map(|t| t.lines().collect())
            .unwrap_or_default();
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
                writeln!(f)?;
            }
            if d.span.start.line == 0 {
                write!(f, "{}: error: {}", self.file, d.message)?;
            } else {
                write!(f, "{}:{}: error: {}", self.file, d.span.start, d.message)?;
            }
            if let Some(e) = &d.expected {
                write!(f, "\n  expected: {e}")?;
            }
            if let Some(line) = d.span.start.line.checked_sub(1).and_then(|l| lines.get(l)) {
                let n = d.span.start.line.to_string();
                let pad = " ".repeat(n.len());
                let col = d.span.start.col.max(1);
                let width = if d.span.end.line == d.span.start.line && d.span.end.col > col {
                    d.span.end.col - col
                } else {
                    1
                };
                let indent: String = line
                    .chars()
                    .take(col - 1)
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                write!(
                    f,
                    "\n{pad} |\n{n} | {line}\n{pad} | {indent}{}",
                    "^".repeat(width.min(80))
                )?;
            }
        }
        Ok(())
    }
}

pub(super) fn load(text: &str, file: &str) -> Result<Model, LoadError> {
    let fail = |diagnostics| LoadError {
        file: file.to_string(),
        diagnostics,
        text: Some(text.to_string()),
    };
    if SpanMap::is_blank(text) {
        // Point just past the end: where the model should have started.
        let end = Pos {
            line: text.lines().count().max(1),
            col: text.lines().last().map_or(0, |l| l.chars().count()) + 1,
        };
        return Err(fail(vec![Diagnostic {
            span: Span { start: end, end },
            message: "the file is empty (it has no model, only white space or comments)".into(),
            expected: Some(
                "a model: Model(name: \"…\", workload: Workload(…), components: {…})".into(),
            ),
        }]));
    }
    let options =
        ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
    let raw: RawModel = options
        .from_str(text)
        .map_err(|e| fail(vec![ron_diagnostic(&e, text)]))?;
    let spans = SpanMap::scan(text);
    validate(&raw, &spans).map_err(fail)
}

fn one_of(names: &[&str]) -> String {
    let list: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    format!("one of {}", list.join(", "))
}

/// Names of the raw serde types as a user would say them.
fn user_term(outer: &Option<String>) -> &'static str {
    match outer.as_deref() {
        Some("RawComponent") => "component kind",
        Some("RawStep") => "step",
        Some("RawDist") => "distribution",
        Some("RawPolicy") => "load-balancer policy",
        Some("RawOp") => "operation",
        Some("RawMode") => "mode",
        Some("RawArrival") => "arrival process",
        Some("RawKeys") => "key law",
        Some("RawProfile") => "traffic profile",
        _ => "name",
    }
}

/// A readable struct or variant name: `RawModel` → `Model`, `RawSim` → `Sim`.
fn user_struct(outer: &Option<String>) -> String {
    match outer.as_deref() {
        None => "this value".into(),
        Some(o) => {
            let o = o.strip_prefix("Raw").unwrap_or(o);
            match o {
                "Class" => "a request class".into(),
                o => format!("`{o}`"),
            }
        }
    }
}

/// Edit distance, for "did you mean" hints.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let sub = prev[j - 1] + usize::from(a[i - 1] != b[j - 1]);
            cur[j] = sub.min(prev[j] + 1).min(cur[j - 1] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn did_you_mean(found: &str, names: &[&str]) -> String {
    names
        .iter()
        .map(|n| (distance(found, n), *n))
        .filter(|(d, n)| *d <= 2.max(n.len() / 3))
        .min()
        .map(|(_, n)| format!(" (did you mean `{n}`?)"))
        .unwrap_or_default()
}

fn char_at(text: &str, p: Pos) -> Option<(char, Option<char>, Option<char>)> {
    let line = text.lines().nth(p.line.checked_sub(1)?)?;
    let chars: Vec<char> = line.chars().collect();
    let i = p.col.checked_sub(1)?;
    Some((
        *chars.get(i)?,
        chars.get(i + 1).copied(),
        i.checked_sub(1).and_then(|j| chars.get(j).copied()),
    ))
}

fn ron_diagnostic(e: &ron::error::SpannedError, text: &str) -> Diagnostic {
    use ron::error::Error as E;
    // ron's spans are 1-based; an error at the very end of input may point one past the text.
    let conv = |p: &ron::error::Position| Pos {
        line: p.line.max(1),
        col: p.col.max(1),
    };
    let mut span = Span {
        start: SpanMap::skip_trivia_from(text, conv(&e.span.start)),
        end: conv(&e.span.end),
    };
    if span.end < span.start {
        span.end = span.start;
    }
    let first = SpanMap::skip_trivia_from(text, Pos { line: 1, col: 1 });
    let looks_like_json = matches!(char_at(text, first), Some(('{', ..)) | Some(('[', ..)));
    let (message, expected): (String, Option<String>) = match &e.code {
        E::NoSuchStructField {
            expected,
            found,
            outer,
        } => (
            format!(
                "unknown field `{found}` in {}{}",
                user_struct(outer),
                did_you_mean(found, expected)
            ),
            Some(one_of(expected)),
        ),
        E::NoSuchEnumVariant {
            expected,
            found,
            outer,
        } => (
            format!(
                "unknown {} `{found}`{}",
                user_term(outer),
                did_you_mean(found, expected)
            ),
            Some(one_of(expected)),
        ),
        E::MissingStructField { field, outer } => (
            format!(
                "{} is missing the required field `{field}`",
                user_struct(outer)
            ),
            Some(format!(
                "a field `{field}: …` before the closing parenthesis"
            )),
        ),
        E::DuplicateStructField { field, outer } => (
            format!(
                "the field `{field}` is given twice in {}",
                user_struct(outer)
            ),
            Some("each field once".into()),
        ),
        E::IntegerOutOfBounds | E::ExpectedInteger => {
            // A negative whole number: point at its sign too.
            if let Some(('-', ..)) | Some((_, _, Some('-'))) = char_at(text, span.start)
                && let Some((_, _, Some('-'))) = char_at(text, span.start)
            {
                span.start.col -= 1;
            }
            (
                "this must be a whole number that is not negative".into(),
                Some("a whole number such as 4 (no sign, no decimal point)".into()),
            )
        }
        E::ExpectedComma => match char_at(text, span.start) {
            Some(('.', Some(d), Some(p))) if d.is_ascii_digit() && p.is_ascii_digit() => (
                "this field takes a whole number, not a decimal".into(),
                Some("a whole number such as 4".into()),
            ),
            _ => (
                "a `,` is missing between two items (or a bracket is not closed)".into(),
                Some("`,` after the previous value".into()),
            ),
        },
        E::ExpectedFloat => (
            "this must be a number".into(),
            Some("a number such as 20.0".into()),
        ),
        E::ExpectedString | E::ExpectedStringEnd => (
            "this must be a string".into(),
            Some("text in double quotes, such as \"app\"".into()),
        ),
        E::ExpectedNamedStructLike(name)
        | E::ExpectedDifferentStructName { expected: name, .. } => {
            let name = name.strip_prefix("Raw").unwrap_or(name);
            if name == "Class" {
                (
                    "a request class is written as an unnamed tuple".into(),
                    Some("`(name: \"read\", weight: 0.9, entry: \"app\")`, with no name before the parenthesis".into()),
                )
            } else {
                (
                    format!("expected `{name}(` here"),
                    Some(if looks_like_json {
                        format!(
                            "a RON model starting with `{name}(`; this file looks like JSON, but archsim models are RON"
                        )
                    } else {
                        format!("`{name}(…)`")
                    }),
                )
            }
        }
        E::ExpectedStructLikeEnd | E::ExpectedArrayEnd | E::ExpectedMapEnd => (
            format!("{} (a bracket is not closed, or a `,` is missing)", e.code),
            Some("the closing bracket or a `,`".into()),
        ),
        E::ExpectedMapColon => (
            "a `:` is missing between a name and its value".into(),
            Some("`\"name\": value`".into()),
        ),
        E::UnexpectedChar(c) => (
            format!("unexpected character `{c}`"),
            Some("a value, a `,` or a closing bracket".into()),
        ),
        E::Eof => (
            "the file ends in the middle of the model".into(),
            Some("the rest of the model: are brackets or quotes unbalanced?".into()),
        ),
        E::TrailingCharacters => (
            "there is text after the end of the model".into(),
            Some("nothing after the model's closing `)`".into()),
        ),
        other => (other.to_string(), None),
    };
    Diagnostic {
        span,
        message,
        expected,
    }
}

/// Collects diagnostics while building the typed model.
struct Checker<'a> {
    spans: &'a SpanMap,
    errors: Vec<Diagnostic>,
    names: HashMap<&'a str, (CompId, &'a RawComponent)>,
    classes: Vec<String>,
    /// Whether the workload declared `classes` (per-class handlers need them).
    has_classes: bool,
    /// Some reference did not resolve, so the graph cannot be built.
    unresolved: bool,
    /// Declared regions (empty without a network).
    regions: Vec<String>,
}

impl<'a> Checker<'a> {
    fn error(&mut self, path: &Path, message: impl Into<String>, expected: impl Into<String>) {
        self.errors.push(Diagnostic {
            span: self.spans.value(path),
            message: message.into(),
            expected: Some(expected.into()),
        });
    }

    fn error_at_key(
        &mut self,
        path: &Path,
        message: impl Into<String>,
        expected: impl Into<String>,
    ) {
        self.errors.push(Diagnostic {
            span: self.spans.key(path),
            message: message.into(),
            expected: Some(expected.into()),
        });
    }

    fn positive(&mut self, path: &Path, what: &str, x: f64) -> f64 {
        if !(x.is_finite() && x > 0.0) {
            self.error(
                path,
                format!("{what} must be positive, got {x}"),
                "a finite number > 0",
            );
        }
        x
    }

    fn non_negative(&mut self, path: &Path, what: &str, x: f64) -> f64 {
        if !(x.is_finite() && x >= 0.0) {
            self.error(
                path,
                format!("{what} must not be negative, got {x}"),
                "a finite number ≥ 0",
            );
        }
        x
    }

    fn at_least_one(&mut self, path: &Path, what: &str, n: u32) -> u32 {
        if n == 0 {
            self.error(
                path,
                format!("{what} must be at least 1, got 0"),
                "a whole number ≥ 1",
            );
        }
        n
    }

    fn probability(&mut self, path: &Path, x: f64) -> f64 {
        if !(0.0..=1.0).contains(&x) {
            self.error(
                path,
                format!("probability {x} is outside [0, 1]"),
                "a number from 0 to 1",
            );
        }
        x
    }

    fn dist(&mut self, path: &Path, d: &RawDist) -> Dist {
        match d {
            RawDist::Exp { mean_ms } => Dist::Exp {
                mean_ms: self.positive(&path.join("mean_ms"), "the mean", *mean_ms),
            },
            RawDist::Const { ms } => Dist::Const {
                ms: self.non_negative(&path.join("ms"), "the duration", *ms),
            },
            RawDist::Uniform { min_ms, max_ms } => {
                let a = self.non_negative(&path.join("min_ms"), "the minimum", *min_ms);
                let b = self.non_negative(&path.join("max_ms"), "the maximum", *max_ms);
                if b < a {
                    self.error(
                        &path.join("max_ms"),
                        format!("max_ms {b} is below min_ms {a}"),
                        "max_ms ≥ min_ms",
                    );
                }
                Dist::Uniform {
                    min_ms: a,
                    max_ms: b,
                }
            }
            RawDist::Erlang { k, mean_ms } => Dist::Erlang {
                k: self.at_least_one(&path.join("k"), "k (the number of stages)", *k),
                mean_ms: self.positive(&path.join("mean_ms"), "the mean", *mean_ms),
            },
            RawDist::LogNormal { median_ms, p99_ms } => {
                let m = self.positive(&path.join("median_ms"), "the median", *median_ms);
                let q = self.positive(&path.join("p99_ms"), "the p99", *p99_ms);
                if q <= m && m > 0.0 {
                    self.error(
                        &path.join("p99_ms"),
                        format!("p99_ms {q} must be above median_ms {m}"),
                        "p99_ms > median_ms",
                    );
                }
                Dist::LogNormal {
                    median_ms: m,
                    p99_ms: q,
                }
            }
            RawDist::Gamma { shape, mean_ms } => Dist::Gamma {
                shape: self.positive(&path.join("shape"), "the shape", *shape),
                mean_ms: self.positive(&path.join("mean_ms"), "the mean", *mean_ms),
            },
            RawDist::Weibull { shape, mean_ms } => Dist::Weibull {
                shape: self.positive(&path.join("shape"), "the shape", *shape),
                mean_ms: self.positive(&path.join("mean_ms"), "the mean", *mean_ms),
            },
            RawDist::Pareto { min_ms, alpha } => {
                let m = self.positive(&path.join("min_ms"), "the minimum", *min_ms);
                if !(alpha.is_finite() && *alpha > 1.0) {
                    self.error(
                        &path.join("alpha"),
                        format!("alpha {alpha} gives an infinite mean"),
                        "alpha > 1",
                    );
                }
                Dist::Pareto {
                    min_ms: m,
                    alpha: *alpha,
                }
            }
            RawDist::Query {
                rows,
                indexed,
                base_ms,
                per_row_ns,
                per_level_ms,
            } => {
                if *rows == 0 {
                    self.error(&path.join("rows"), "a table of 0 rows", "rows ≥ 1");
                }
                Dist::Query {
                    rows: *rows,
                    indexed: *indexed,
                    base_ms: self.positive(
                        &path.join("base_ms"),
                        "the base time",
                        base_ms.unwrap_or(crate::dist::QUERY_BASE_MS),
                    ),
                    per_row_ns: self.non_negative(
                        &path.join("per_row_ns"),
                        "the per-row cost",
                        per_row_ns.unwrap_or(crate::dist::QUERY_PER_ROW_NS),
                    ),
                    per_level_ms: self.non_negative(
                        &path.join("per_level_ms"),
                        "the per-level cost",
                        per_level_ms.unwrap_or(crate::dist::QUERY_PER_LEVEL_MS),
                    ),
                }
            }
            RawDist::Empirical { samples_ms } => {
                if samples_ms.is_empty() {
                    self.error(
                        &path.join("samples_ms"),
                        "no samples given",
                        "at least one sample",
                    );
                }
                for (i, x) in samples_ms.iter().enumerate() {
                    self.non_negative(&path.join("samples_ms").join(i), "a sample", *x);
                }
                Dist::Empirical {
                    samples_ms: samples_ms.clone(),
                }
            }
        }
    }

    /// Resolves a component name, checking that its kind is acceptable there.
    fn reference(
        &mut self,
        path: &Path,
        name: &str,
        role: &str,
        accept: fn(&RawComponent) -> bool,
        accept_desc: &str,
    ) -> CompId {
        match self.names.get(name) {
            None => {
                self.unresolved = true;
                let mut known: Vec<&str> = self.names.keys().copied().collect();
                known.sort_unstable();
                self.error(
                    path,
                    format!("{role} `{name}` is not a component of this model"),
                    format!("one of the components: {}", known.join(", ")),
                );
                0
            }
            Some(&(id, c)) => {
                if !accept(c) {
                    self.error(
                        path,
                        format!(
                            "{role} `{name}` is {} {}",
                            if c.kind_name().starts_with(['A', 'E', 'I', 'O', 'U']) {
                                "an"
                            } else {
                                "a"
                            },
                            c.kind_name()
                        ),
                        accept_desc.to_string(),
                    );
                }
                id
            }
        }
    }

    /// Like `reference`, but the name is a map key (so errors point at the key).
    fn reference_at_key(
        &mut self,
        path: &Path,
        name: &str,
        role: &str,
        accept: fn(&RawComponent) -> bool,
        accept_desc: &str,
    ) -> CompId {
        let before = self.errors.len();
        let id = self.reference(path, name, role, accept, accept_desc);
        for d in &mut self.errors[before..] {
            d.span = self.spans.key(path);
        }
        id
    }

    /// Resolves a region name; without a network, any region is an error.
    fn region(&mut self, path: &Path, name: &str) -> RegionId {
        if self.regions.is_empty() {
            self.error(
                path,
                format!("region `{name}` is given, but the model has no `network`"),
                "a `network: Network(regions: [...], links: [...])` section declaring the regions",
            );
            return 0;
        }
        match self.regions.iter().position(|r| r == name) {
            Some(i) => i,
            None => {
                let known = self.regions.join(", ");
                self.error(
                    path,
                    format!("region `{name}` is not declared in `network.regions`"),
                    format!("one of the regions: {known}"),
                );
                0
            }
        }
    }

    fn call_target(&mut self, path: &Path, target: &str, owner: &str) -> CompId {
        if target == owner {
            self.error(
                path,
                format!("`{owner}` calls itself"),
                "a call to another component (a synchronous call to oneself never returns)",
            );
        }
        self.reference(
            path,
            target,
            "call target",
            |c| !matches!(c, RawComponent::Queue { .. }),
            "a Server, LoadBalancer, Cache, Database, ExternalApi or Cdn (hand work to a Queue with Enqueue)",
        )
    }

    fn steps(&mut self, path: &Path, steps: &[RawStep], owner: &str) -> Vec<Step> {
        steps
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let p = path.join(i);
                match s {
                    RawStep::Work(d) => Step::Work(self.dist(&p.join(0), d)),
                    RawStep::Call(target) => {
                        Step::Call(self.call_target(&p.join(0), target, owner))
                    }
                    RawStep::CallWith {
                        target,
                        timeout_ms,
                        retries,
                        backoff_ms,
                    } => {
                        let t = self.call_target(&p.join("target"), target, owner);
                        Step::CallWith(
                            t,
                            CallOptions {
                                timeout_ms: timeout_ms.map(|x| {
                                    self.positive(&p.join("timeout_ms"), "the call timeout", x)
                                }),
                                retries: retries.unwrap_or(0),
                                backoff_ms: self.non_negative(
                                    &p.join("backoff_ms"),
                                    "the backoff",
                                    backoff_ms.unwrap_or(0.0),
                                ),
                            },
                        )
                    }
                    RawStep::Maybe { p: prob, steps } => {
                        let prob = self.probability(&p.join("p"), *prob);
                        if steps.is_empty() {
                            self.error(&p.join("steps"), "Maybe has no steps", "at least one step");
                        }
                        Step::Maybe {
                            p: prob,
                            steps: self.steps(&p.join("steps"), steps, owner),
                        }
                    }
                    RawStep::Parallel { branches } => {
                        if branches.is_empty() {
                            self.error(
                                &p.join("branches"),
                                "Parallel has no branches",
                                "at least one branch",
                            );
                        }
                        let mut out = Vec::new();
                        for (b, branch) in branches.iter().enumerate() {
                            let bp = p.join("branches").join(b);
                            if branch.is_empty() {
                                self.error(
                                    &bp,
                                    "this Parallel branch is empty",
                                    "at least one step",
                                );
                            }
                            out.push(self.steps(&bp, branch, owner));
                        }
                        Step::Parallel(out)
                    }
                    RawStep::Enqueue(target) => Step::Enqueue(self.reference(
                        &p.join(0),
                        target,
                        "enqueue target",
                        |c| matches!(c, RawComponent::Queue { .. }),
                        "a Queue component",
                    )),
                }
            })
            .collect()
    }

    fn handler(&mut self, path: &Path, steps: &[RawStep], owner: &str) -> Vec<Step> {
        if steps.is_empty() {
            self.error(
                path,
                format!("`{owner}` has an empty handler"),
                "at least one step, e.g. [Work(Exp(mean_ms: 10.0))]",
            );
        }
        self.steps(path, steps, owner)
    }
}

fn check_network(ck: &mut Checker, np: &Path, n: &RawNetwork) -> Network {
    if n.regions.is_empty() {
        ck.error(
            &np.join("regions"),
            "the network declares no regions",
            "at least one region name",
        );
    }
    for (i, r) in n.regions.iter().enumerate() {
        if n.regions[..i].contains(r) {
            ck.error(
                &np.join("regions").join(i),
                format!("region `{r}` is declared twice"),
                "each region once",
            );
        }
    }
    ck.regions = n.regions.clone();
    let same = n
        .same_region
        .as_ref()
        .map(|d| ck.dist(&np.join("same_region"), d))
        .unwrap_or(Dist::Const {
            ms: DEFAULT_SAME_REGION_MS,
        });
    let k = n.regions.len();
    let mut links: Vec<Vec<Option<Dist>>> = vec![vec![None; k]; k];
    for (i, row) in links.iter_mut().enumerate() {
        row[i] = Some(same.clone());
    }
    for (i, (a, b, d)) in n.links.iter().enumerate() {
        let lp = np.join("links").join(i);
        let ra = ck.region(&lp.join(0), a);
        let rb = ck.region(&lp.join(1), b);
        let dist = ck.dist(&lp.join(2), d);
        if ra == rb && a == b {
            ck.error(
                &lp.join(1),
                format!("a link from `{a}` to itself"),
                "two different regions (same-region latency is `same_region`)",
            );
        } else if k > 0 {
            links[ra][rb] = Some(dist.clone());
            links[rb][ra] = Some(dist);
        }
    }
    let mut missing = Vec::new();
    for (a, row) in links.iter().enumerate() {
        for (b, link) in row.iter().enumerate().skip(a + 1) {
            if link.is_none() {
                missing.push(format!("(\"{}\", \"{}\", …)", n.regions[a], n.regions[b]));
            }
        }
    }
    if !missing.is_empty() {
        ck.error(
            &np.join("links"),
            format!(
                "the network has no latency between some regions: {}",
                missing.join(", ")
            ),
            "a link for every pair of regions",
        );
    }
    Network {
        regions: n.regions.clone(),
        same_region: same.clone(),
        links: links
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .map(|d| d.unwrap_or(Dist::Const { ms: 0.0 }))
                    .collect()
            })
            .collect(),
        serialization: n
            .serialization
            .as_ref()
            .map(|d| ck.dist(&np.join("serialization"), d)),
    }
}

/// One-way latency inside a region when the network does not say.
pub const DEFAULT_SAME_REGION_MS: f64 = 0.25;

fn wl_has_classes(raw: &RawModel) -> bool {
    raw.workload.classes.is_some()
}

fn check_classes(ck: &mut Checker, wp: &Path, list: &[RawClass]) -> Vec<Class> {
    let entry_ok = |c: &RawComponent| !matches!(c, RawComponent::Queue { .. });
    let entry_desc = "a Server, LoadBalancer, Cache or Database";
    if list.is_empty() {
        ck.error(
            &wp.join("classes"),
            "the list of classes is empty",
            "at least one class",
        );
    }
    let mut out = Vec::new();
    for (i, c) in list.iter().enumerate() {
        let cp = wp.join("classes").join(i);
        if out.iter().any(|o: &Class| o.name == c.name) {
            ck.error(
                &cp.join("name"),
                format!("class `{}` is defined twice", c.name),
                "unique class names",
            );
        }
        let weight = ck.positive(&cp.join("weight"), "the class weight", c.weight);
        let entry = ck.reference(&cp.join("entry"), &c.entry, "entry", entry_ok, entry_desc);
        let keys = c.keys.as_ref().map(|k| match k {
            RawKeys::Zipf { n, s } => {
                if *n == 0 {
                    ck.error(&cp.join("keys").join("n"), "a key space of 0 keys", "n ≥ 1");
                }
                ck.non_negative(&cp.join("keys").join("s"), "the Zipf exponent", *s);
                KeyLaw::Zipf { n: *n, s: *s }
            }
            RawKeys::Uniform { n } => {
                if *n == 0 {
                    ck.error(&cp.join("keys").join("n"), "a key space of 0 keys", "n ≥ 1");
                }
                KeyLaw::Uniform { n: *n }
            }
        });
        out.push(Class {
            name: c.name.clone(),
            weight,
            entry,
            op: match c.op {
                Some(RawOp::Write) => Op::Write,
                _ => Op::Read,
            },
            keys,
            max_age_s: c
                .max_age_s
                .map(|m| ck.positive(&cp.join("max_age_s"), "max_age_s", m)),
        });
    }
    out
}

fn validate(raw: &RawModel, spans: &SpanMap) -> Result<Model, Vec<Diagnostic>> {
    let root = Path::root();
    let mut ck = Checker {
        spans,
        errors: Vec::new(),
        names: HashMap::new(),
        classes: Vec::new(),
        has_classes: wl_has_classes(raw),
        unresolved: false,
        regions: Vec::new(),
    };
    let network = raw
        .network
        .as_ref()
        .map(|n| check_network(&mut ck, &root.join("network"), n));
    for (path, span) in &spans.duplicate_keys {
        ck.errors.push(Diagnostic {
            span: *span,
            message: format!(
                "`{}` is defined twice",
                path.as_str().rsplit('/').next().unwrap_or("")
            ),
            expected: Some("each name once in a map".into()),
        });
    }
    let comps_path = root.join("components");
    if raw.components.is_empty() {
        ck.error(
            &comps_path,
            "the model has no components",
            "at least one component",
        );
    }
    for (id, (name, c)) in raw.components.iter().enumerate() {
        if name.trim().is_empty() {
            ck.error_at_key(
                &comps_path.join(name),
                "a component name is empty",
                "a non-empty name",
            );
        }
        ck.names.entry(name.as_str()).or_insert((id, c));
    }

    // Workload: classes first, since per-class handlers refer to them.
    let wl = &raw.workload;
    let wp = root.join("workload");
    let arrival = match &wl.arrival {
        RawArrival::Poisson { rate } => Arrival::Poisson {
            rate: ck.positive(&wp.join("arrival").join("rate"), "the arrival rate", *rate),
        },
        RawArrival::Closed { users, think } => Arrival::Closed {
            users: ck.at_least_one(&wp.join("arrival").join("users"), "users", *users),
            think: ck.dist(&wp.join("arrival").join("think"), think),
        },
    };
    let entry_ok = |c: &RawComponent| !matches!(c, RawComponent::Queue { .. });
    let entry_desc = "a Server, LoadBalancer, Cache or Database";
    let classes = match (&wl.entry, &wl.classes) {
        (Some(_), Some(_)) => {
            ck.error(
                &wp.join("classes"),
                "the workload has both `entry` and `classes`",
                "either `entry` (one kind of request) or `classes`, not both",
            );
            Vec::new()
        }
        (None, None) => {
            ck.error(
                &wp,
                "the workload has neither `entry` nor `classes`",
                "`entry: \"name\"` or a list of `classes`",
            );
            Vec::new()
        }
        (Some(e), None) => {
            let entry = ck.reference(&wp.join("entry"), e, "entry", entry_ok, entry_desc);
            vec![Class {
                name: "default".into(),
                weight: 1.0,
                entry,
                op: Op::Read,
                keys: None,
                max_age_s: None,
            }]
        }
        (None, Some(list)) => check_classes(&mut ck, &wp, list),
    };
    ck.classes = classes.iter().map(|c| c.name.clone()).collect();
    let profile = match &wl.profile {
        None | Some(RawProfile::Steady) => Profile::Steady,
        Some(p) => {
            let pp = wp.join("profile");
            match p {
                RawProfile::Steady => Profile::Steady,
                RawProfile::Step { at_s, factor } => Profile::Step {
                    at_s: ck.non_negative(&pp.join("at_s"), "the step time", *at_s),
                    factor: ck.non_negative(&pp.join("factor"), "the factor", *factor),
                },
                RawProfile::Spike {
                    start_s,
                    duration_s,
                    factor,
                } => Profile::Spike {
                    start_s: ck.non_negative(&pp.join("start_s"), "the spike start", *start_s),
                    duration_s: ck.positive(
                        &pp.join("duration_s"),
                        "the spike duration",
                        *duration_s,
                    ),
                    factor: ck.non_negative(&pp.join("factor"), "the factor", *factor),
                },
                RawProfile::Ramp { from, to, over_s } => Profile::Ramp {
                    from: ck.non_negative(&pp.join("from"), "the starting factor", *from),
                    to: ck.non_negative(&pp.join("to"), "the final factor", *to),
                    over_s: ck.positive(&pp.join("over_s"), "the ramp length", *over_s),
                },
                RawProfile::Diurnal {
                    period_s,
                    amplitude,
                } => {
                    if !(0.0..=1.0).contains(amplitude) {
                        ck.error(
                            &pp.join("amplitude"),
                            format!("amplitude {amplitude} would make the rate negative"),
                            "a number from 0 to 1",
                        );
                    }
                    Profile::Diurnal {
                        period_s: ck.positive(&pp.join("period_s"), "the period", *period_s),
                        amplitude: *amplitude,
                    }
                }
                RawProfile::Table(points) => {
                    if points.is_empty() {
                        ck.error(
                            &pp,
                            "the profile table is empty",
                            "at least one (time_s, factor) pair",
                        );
                    }
                    let mut last = f64::NEG_INFINITY;
                    for (i, &(t, f)) in points.iter().enumerate() {
                        let ip = pp.join(0).join(i);
                        ck.non_negative(&ip.join(0), "a time", t);
                        ck.non_negative(&ip.join(1), "a factor", f);
                        if t <= last {
                            ck.error(
                                &ip.join(0),
                                format!("time {t} does not come after {last}"),
                                "times in increasing order",
                            );
                        }
                        last = t;
                    }
                    Profile::Table(points.clone())
                }
            }
        }
    };
    if matches!(wl.arrival, RawArrival::Closed { .. })
        && matches!(
            profile,
            Profile::Step { .. }
                | Profile::Spike { .. }
                | Profile::Ramp { .. }
                | Profile::Diurnal { .. }
                | Profile::Table(_)
        )
    {
        ck.error(
            &wp.join("profile"),
            "a traffic profile shapes open arrivals, but this workload has closed users",
            "Poisson(rate: …) arrivals with a profile, or Closed users without one",
        );
    }
    let timeout_ms = wl
        .timeout_ms
        .map(|t| ck.positive(&wp.join("timeout_ms"), "the timeout", t));
    let mut clients = Vec::new();
    if let Some(list) = &wl.clients {
        if list.is_empty() {
            ck.error(
                &wp.join("clients"),
                "the list of client regions is empty",
                "at least one (region: …, share: …)",
            );
        }
        let total: f64 = list.iter().map(|c| c.share.max(0.0)).sum();
        for (i, c) in list.iter().enumerate() {
            let p = wp.join("clients").join(i);
            let r = ck.region(&p.join("region"), &c.region);
            let share = ck.positive(&p.join("share"), "the share", c.share);
            clients.push((r, share / total.max(f64::MIN_POSITIVE)));
        }
    } else if network.is_some() {
        clients.push((0, 1.0));
    }
    let retry = wl.retry.as_ref().map(|r| {
        let rp = wp.join("retry");
        Retry {
            max: r.max,
            backoff_ms: ck.non_negative(&rp.join("backoff_ms"), "the backoff", r.backoff_ms),
            multiplier: {
                let m = r.multiplier.unwrap_or(2.0);
                if !(m.is_finite() && m >= 1.0) {
                    ck.error(
                        &rp.join("multiplier"),
                        format!("multiplier {m} would shrink the backoff"),
                        "a number ≥ 1",
                    );
                }
                m
            },
            jitter: r.jitter.unwrap_or(true),
            budget: r
                .budget
                .map(|b| ck.non_negative(&rp.join("budget"), "the retry budget", b)),
        }
    });
    let population = wl
        .population
        .map(|p| ck.at_least_one(&wp.join("population"), "the population", p));
    if matches!(wl.arrival, RawArrival::Poisson { .. })
        && population.is_none()
        && let Some(i) = classes.iter().position(|c| c.max_age_s.is_some())
    {
        ck.error(
            &wp.join("classes").join(i).join("max_age_s"),
            "browser caching needs to know who the clients are",
            "`population: N` in the workload (how many distinct browsers send the requests)",
        );
    }

    // Components.
    let mut components = Vec::new();
    for (name, c) in &raw.components {
        let cp = comps_path.join(name);
        let kind = match c {
            RawComponent::Server {
                instances,
                workers,
                handler,
                handlers,
                queue_capacity,
                mode,
                pools,
                memory,
                ..
            } => {
                let memory = memory.as_ref().map(|m| {
                    let mp = cp.join("memory");
                    let base = ck.non_negative(&mp.join("base_mb"), "the base memory", m.base_mb);
                    let per = ck.positive(
                        &mp.join("per_request_mb"),
                        "the memory per request",
                        m.per_request_mb,
                    );
                    let limit = ck.positive(&mp.join("limit_mb"), "the memory limit", m.limit_mb);
                    if limit <= base {
                        ck.error(
                            &mp.join("limit_mb"),
                            format!(
                                "the limit ({limit} MB) leaves no room above the base ({base} MB)"
                            ),
                            "limit_mb > base_mb",
                        );
                    }
                    Memory {
                        base_mb: base,
                        per_request_mb: per,
                        limit_mb: limit,
                        restart_s: ck.positive(
                            &mp.join("restart_s"),
                            "the restart time",
                            m.restart_s.unwrap_or(30.0),
                        ),
                    }
                });
                let mut pool_list = Vec::new();
                for (target, pool) in pools.iter().flatten() {
                    let pp = cp.join("pools").join(target);
                    let id = ck.reference_at_key(
                        &pp,
                        target,
                        "pool target",
                        |c| matches!(c, RawComponent::Database { .. }),
                        "a Database (connection pools hold database connections)",
                    );
                    let size = ck.at_least_one(&pp.join("size"), "the pool size", pool.size);
                    let timeout = pool.acquire_timeout_ms.map(|t| {
                        ck.positive(&pp.join("acquire_timeout_ms"), "the acquire timeout", t)
                    });
                    pool_list.push((
                        id,
                        Pool {
                            size,
                            acquire_timeout_ms: timeout,
                        },
                    ));
                }
                let mut class_handlers = vec![None; ck.classes.len()];
                if handlers.is_some() && !ck.has_classes {
                    ck.error_at_key(&cp.join("handlers"), "per-class `handlers` need request classes, but the workload has none", "a workload with `classes: [(name: …, weight: …, entry: …), …]`, or only `handler`");
                } else if let Some(map) = handlers {
                    for (class, steps) in map {
                        let hp = cp.join("handlers").join(class);
                        match ck.classes.iter().position(|c| c == class) {
                            Some(i) => class_handlers[i] = Some(ck.handler(&hp, steps, name)),
                            None => {
                                let known = ck.classes.join(", ");
                                ck.error_at_key(
                                    &hp,
                                    format!("`{class}` is not a request class of this workload"),
                                    format!("one of the classes: {known}"),
                                );
                            }
                        }
                    }
                }
                let handler = ck.handler(&cp.join("handler"), handler, name);
                for (target, _) in pools.iter().flatten() {
                    let Some(&(id, RawComponent::Database { .. })) = ck.names.get(target.as_str())
                    else {
                        continue; // already reported
                    };
                    let direct = std::iter::once(&handler)
                        .chain(class_handlers.iter().flatten())
                        .any(|steps| calls_directly(steps, id));
                    if !direct {
                        ck.error_at_key(
                            &cp.join("pools").join(target),
                            format!(
                                "`{name}` never calls `{target}` itself, so this pool would never \
                                 be used (calls that a cache makes on a miss come from the cache, \
                                 not through its callers' pools)"
                            ),
                            format!("a pool only for a database that `{name}`'s handler calls with Call or CallWith"),
                        );
                    }
                }
                Kind::Server(Server {
                    instances: ck.at_least_one(
                        &cp.join("instances"),
                        "instances",
                        instances.unwrap_or(1),
                    ),
                    workers: ck.at_least_one(&cp.join("workers"), "workers", *workers),
                    handler,
                    class_handlers,
                    queue_capacity: *queue_capacity,
                    mode: match mode {
                        Some(RawMode::Async) => Mode::Async,
                        _ => Mode::Blocking,
                    },
                    pools: pool_list,
                    memory,
                })
            }
            RawComponent::LoadBalancer {
                targets,
                policy,
                health_check,
                ..
            } => {
                let health_check = health_check.as_ref().map(|h| {
                    let hp = cp.join("health_check");
                    HealthCheck {
                        interval_s: ck.positive(
                            &hp.join("interval_s"),
                            "the check interval",
                            h.interval_s,
                        ),
                        unhealthy: ck.at_least_one(
                            &hp.join("unhealthy"),
                            "the unhealthy threshold",
                            h.unhealthy.unwrap_or(3),
                        ),
                        healthy: ck.at_least_one(
                            &hp.join("healthy"),
                            "the healthy threshold",
                            h.healthy.unwrap_or(2),
                        ),
                    }
                });
                if targets.is_empty() {
                    ck.error(
                        &cp.join("targets"),
                        format!("load balancer `{name}` has no targets"),
                        "at least one target component",
                    );
                }
                let mut ids = Vec::new();
                for (i, t) in targets.iter().enumerate() {
                    let tp = cp.join("targets").join(i);
                    let id = ck.reference(
                        &tp,
                        t,
                        "target",
                        |c| matches!(c, RawComponent::Server { .. }),
                        "a Server (a balancer spreads calls over the instances of servers)",
                    );
                    if ids.contains(&id) && ck.names.contains_key(t.as_str()) {
                        ck.error(
                            &tp,
                            format!("target `{t}` is listed twice"),
                            "each target once",
                        );
                    }
                    ids.push(id);
                }
                Kind::LoadBalancer(LoadBalancer {
                    targets: ids,
                    policy: match policy.unwrap_or(RawPolicy::RoundRobin) {
                        RawPolicy::RoundRobin => Policy::RoundRobin,
                        RawPolicy::Random => Policy::Random,
                        RawPolicy::LeastConnections => Policy::LeastConnections,
                        RawPolicy::PowerOfTwoChoices => Policy::PowerOfTwoChoices,
                        RawPolicy::Sticky => Policy::Sticky,
                    },
                    health_check,
                })
            }
            RawComponent::Cache {
                capacity,
                ttl_s,
                hit,
                backend,
                workers,
                coalesce,
                ..
            } => {
                if *capacity == Some(0) {
                    ck.error(
                        &cp.join("capacity"),
                        "a cache that holds 0 keys",
                        "capacity ≥ 1 (or leave it out for unbounded)",
                    );
                }
                if backend == name {
                    ck.error(
                        &cp.join("backend"),
                        format!("cache `{name}` is its own backend"),
                        "another component",
                    );
                }
                Kind::Cache(Cache {
                    capacity: *capacity,
                    ttl_s: ttl_s.map(|t| ck.positive(&cp.join("ttl_s"), "the TTL", t)),
                    hit: ck.dist(&cp.join("hit"), hit),
                    backend: ck.reference(
                        &cp.join("backend"),
                        backend,
                        "backend",
                        |c| !matches!(c, RawComponent::Queue { .. }),
                        "a Server, LoadBalancer, Cache or Database",
                    ),
                    workers: workers.map(|w| ck.at_least_one(&cp.join("workers"), "workers", w)),
                    coalesce: coalesce.unwrap_or(false),
                })
            }
            RawComponent::Database {
                workers,
                read,
                write,
                replicas,
                replication_lag,
                max_connections,
                connect,
                ..
            } => {
                let replicas = replicas.unwrap_or(0);
                if replication_lag.is_some() && replicas == 0 {
                    ck.error(
                        &cp.join("replication_lag"),
                        format!("database `{name}` has a replication lag but no replicas"),
                        "replicas ≥ 1, or no replication_lag",
                    );
                }
                Kind::Database(Database {
                    workers: ck.at_least_one(&cp.join("workers"), "workers", *workers),
                    read: ck.dist(&cp.join("read"), read),
                    write: ck.dist(&cp.join("write"), write),
                    replicas,
                    replication_lag: replication_lag
                        .as_ref()
                        .map(|d| ck.dist(&cp.join("replication_lag"), d)),
                    max_connections: max_connections.map(|m| {
                        ck.at_least_one(&cp.join("max_connections"), "max_connections", m)
                    }),
                    connect: connect.as_ref().map(|d| ck.dist(&cp.join("connect"), d)),
                })
            }
            RawComponent::Queue {
                workers,
                handler,
                capacity,
                when_full,
                ..
            } => Kind::Queue(Queue {
                workers: ck.at_least_one(&cp.join("workers"), "workers", *workers),
                handler: ck.handler(&cp.join("handler"), handler, name),
                capacity: *capacity,
                block_when_full: *when_full == Some(RawWhenFull::Block),
            }),
            RawComponent::ExternalApi {
                latency,
                concurrency,
                rate_limit_rps,
                error_rate,
                ..
            } => Kind::ExternalApi(ExternalApi {
                latency: ck.dist(&cp.join("latency"), latency),
                concurrency: concurrency
                    .map(|c| ck.at_least_one(&cp.join("concurrency"), "concurrency", c)),
                rate_limit_rps: rate_limit_rps
                    .map(|r| ck.positive(&cp.join("rate_limit_rps"), "the rate limit", r)),
                error_rate: ck.probability(&cp.join("error_rate"), error_rate.unwrap_or(0.0)),
            }),
            RawComponent::Cdn {
                edges, hit, origin, ..
            } => {
                if edges.is_empty() {
                    ck.error(
                        &cp.join("edges"),
                        format!("CDN `{name}` has no edge locations"),
                        "at least one Edge(region: …)",
                    );
                }
                let edges = edges
                    .iter()
                    .enumerate()
                    .map(|(i, e)| {
                        let ep = cp.join("edges").join(i);
                        if e.capacity == Some(0) {
                            ck.error(
                                &ep.join("capacity"),
                                "an edge that holds 0 objects",
                                "capacity ≥ 1 (or leave it out for unbounded)",
                            );
                        }
                        Edge {
                            region: ck.region(&ep.join("region"), &e.region),
                            capacity: e.capacity,
                            ttl_s: e
                                .ttl_s
                                .map(|t| ck.positive(&ep.join("ttl_s"), "the TTL", t)),
                        }
                    })
                    .collect();
                if origin == name {
                    ck.error(
                        &cp.join("origin"),
                        format!("CDN `{name}` is its own origin"),
                        "another component",
                    );
                }
                Kind::Cdn(Cdn {
                    edges,
                    hit: ck.dist(&cp.join("hit"), hit),
                    origin: ck.reference(
                        &cp.join("origin"),
                        origin,
                        "origin",
                        |c| !matches!(c, RawComponent::Queue { .. } | RawComponent::Cdn { .. }),
                        "a Server, LoadBalancer, Cache or Database",
                    ),
                })
            }
        };
        // The machine: workers are per CPU, service times divide by the speed.
        let (cpus, speed, size_price) = match c.size() {
            None | Some(RawSize::Small) => (1, 1.0, PRICE_PER_CPU),
            Some(RawSize::Large) => (8, 1.0, 8.0 * PRICE_PER_CPU),
            Some(RawSize::Box {
                cpus,
                speed,
                cost_per_month,
            }) => {
                let sp = cp.join("size");
                let cpus = ck.at_least_one(&sp.join("cpus"), "cpus", *cpus);
                let speed = ck.positive(&sp.join("speed"), "the speed", speed.unwrap_or(1.0));
                let price = cost_per_month.map_or(PRICE_PER_CPU * cpus as f64, |x| {
                    ck.non_negative(&sp.join("cost_per_month"), "the price", x)
                });
                (cpus, speed, price)
            }
        };
        let mut kind = kind;
        if c.size().is_some() {
            let f = 1.0 / speed;
            match &mut kind {
                Kind::Server(sv) => {
                    sv.workers = sv.workers.saturating_mul(cpus);
                    params::scale_steps(&mut sv.handler, f);
                    for h in sv.class_handlers.iter_mut().flatten() {
                        params::scale_steps(h, f);
                    }
                }
                Kind::Database(d) => {
                    d.workers = d.workers.saturating_mul(cpus);
                    d.read = d.read.scaled(f);
                    d.write = d.write.scaled(f);
                }
                _ => {}
            }
        }
        let cost_per_month = match c.cost_per_month() {
            Some(x) => ck.non_negative(&cp.join("cost_per_month"), "the price", x),
            None => match &kind {
                Kind::Server(_) | Kind::Database(_) => size_price,
                Kind::LoadBalancer(_) => PRICE_LOAD_BALANCER,
                Kind::Cache(_) => PRICE_CACHE,
                Kind::Queue(_) => PRICE_QUEUE,
                Kind::ExternalApi(_) | Kind::Cdn(_) => 0.0,
            },
        };
        let region = match (c.region(), &network) {
            (Some(r), _) => Some(ck.region(&cp.join("region"), r)),
            (None, Some(_)) if !matches!(kind, Kind::Cdn(_)) => Some(0),
            _ => None,
        };
        components.push(Component {
            name: name.clone(),
            kind,
            region,
            cost_per_month,
        });
    }

    // Failures refer to components and their instances.
    let mut failures = Vec::new();
    for (i, f) in raw.failures.iter().flatten().enumerate() {
        let fp = root.join("failures").join(i);
        let (component, instance) = match f {
            RawFailure::Crash {
                component,
                instance,
                ..
            }
            | RawFailure::Random {
                component,
                instance,
                ..
            } => (component, instance),
        };
        let id = ck.reference(
            &fp.join("component"),
            component,
            "failing component",
            |c| {
                !matches!(
                    c,
                    RawComponent::LoadBalancer { .. } | RawComponent::Cdn { .. }
                )
            },
            "a Server, Cache, Database, Queue or ExternalApi",
        );
        if let (Some(k), Some(c)) = (instance, components.get(id)) {
            let n = c.instances();
            if *k >= n {
                ck.error(&fp.join("instance"), format!("`{component}` has {n} instance(s), numbered from 0; there is no instance {k}"), format!("an instance from 0 to {}", n.saturating_sub(1)));
            }
        }
        let kind = match f {
            RawFailure::Crash { at_s, for_s, .. } => FailureKind::Scheduled {
                at_s: ck.non_negative(&fp.join("at_s"), "the crash time", *at_s),
                for_s: for_s.map(|d| ck.positive(&fp.join("for_s"), "the outage", d)),
            },
            RawFailure::Random { mtbf_s, mttr_s, .. } => FailureKind::Random {
                mtbf_s: ck.positive(
                    &fp.join("mtbf_s"),
                    "the mean time between failures",
                    *mtbf_s,
                ),
                mttr_s: ck.positive(&fp.join("mttr_s"), "the mean time to repair", *mttr_s),
            },
        };
        failures.push(Failure {
            component: id,
            instance: *instance,
            kind,
        });
    }

    // Sim settings.
    let mut sim = SimSettings::default();
    if let Some(s) = &raw.sim {
        let sp = root.join("sim");
        sim.duration_s = s
            .duration_s
            .map(|d| ck.positive(&sp.join("duration_s"), "the duration", d));
        sim.warmup_s = s
            .warmup_s
            .map(|w| ck.non_negative(&sp.join("warmup_s"), "the warm-up", w));
        if let (Some(d), Some(w)) = (s.duration_s, s.warmup_s)
            && w >= d
        {
            ck.error(
                &sp.join("warmup_s"),
                format!("the warm-up ({w} s) is not shorter than the run ({d} s)"),
                "warmup_s < duration_s: the run's duration includes its warm-up",
            );
        }
        if let (None, Some(w)) = (s.duration_s, s.warmup_s)
            && w >= crate::runner::DEFAULT_DURATION_S
        {
            ck.error(
                &sp.join("warmup_s"),
                format!(
                    "the warm-up ({w} s) is not shorter than the default run of {} s",
                    crate::runner::DEFAULT_DURATION_S
                ),
                "warmup_s below the run's duration: set duration_s too",
            );
        }
        sim.seed = s.seed;
        sim.replications = s
            .replications
            .map(|r| ck.at_least_one(&sp.join("replications"), "replications", r));
        sim.max_in_flight = s
            .max_in_flight
            .map(|m| ck.at_least_one(&sp.join("max_in_flight"), "max_in_flight", m));
    }

    let model = Model {
        name: raw.name.clone(),
        description: raw.description.clone(),
        workload: Workload {
            arrival,
            classes,
            profile,
            timeout_ms,
            clients,
            population,
            retry,
        },
        components,
        network,
        failures,
        sim,
    };

    // Cycles can only be looked for once every reference resolved.
    if !ck.unresolved
        && let Some(cycle) = graph::sync_cycle(&model)
    {
        let names: Vec<&str> = cycle
            .iter()
            .map(|&c| model.components[c].name.as_str())
            .collect();
        let first = &model.components[cycle[0]].name;
        ck.error_at_key(
            &comps_path.join(first),
            format!("synchronous calls form a cycle: {} → {}", names.join(" → "), names[0]),
            "calls that never lead back to the caller (a request would wait on itself); use Enqueue to hand work back asynchronously",
        );
    }
    if ck.errors.is_empty() {
        Ok(model)
    } else {
        ck.errors.sort_by_key(|d| d.span.start);
        Err(ck.errors)
    }
}

/// Whether `steps` call component `id` themselves (not through another component).
fn calls_directly(steps: &[Step], id: CompId) -> bool {
    steps.iter().any(|s| match s {
        Step::Call(t) | Step::CallWith(t, _) => *t == id,
        Step::Maybe { steps, .. } => calls_directly(steps, id),
        Step::Parallel(branches) => branches.iter().any(|b| calls_directly(b, id)),
        Step::Work(_) | Step::Enqueue(_) => false,
    })
}
