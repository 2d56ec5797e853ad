//! The sweep report as users get it: charts (PNG and SVG) and the self-contained report.html,
//! drawn from real simulations of two bundled models and a third with an awkward name.
//!
//! - PNGs are decoded here by a small independent decoder (inflate + row filters + CRC and
//!   Adler checks), SVGs are checked for balanced tags and their axis labels;
//! - the same input gives byte-identical files;
//! - report.html opens with the answer, names every model (escaped), inlines every chart and
//!   fetches nothing;
//! - when Chromium is installed, a headless screenshot of report.html is decoded and must show
//!   a rendered page, including a chart drawn from an inlined PNG;
//! - a model with a traffic spike and a crash gets a timeline chart (valid, labelled with its
//!   events, deterministic) that report.html inlines, in its story step or under "Over time".

use archsim::model::Model;
use archsim::model::params::apply_parameter;
use archsim::report::{self, Chart, ModelInfo, SweepOutput};
use archsim::runner::{RunOptions, run_point};
use archsim::stats::summary::RunSummary;
use archsim::sweep::{Knee, knees};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const SLO: f64 = 500.0;
const MAX_ERRORS: f64 = 0.01;
/// A model name that must be escaped everywhere it appears.
const AWKWARD: &str = "Tom & Jerry's <b>\"shop\"</b>";

struct Fixture {
    results: Vec<RunSummary>,
    knees: Vec<Knee>,
    models: Vec<ModelInfo>,
}

/// Frozen copies of early bundled models, so the assertions do not move with models/.
fn models_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The `//` comment block at the top of a model file.
fn header_notes(text: &str) -> Option<String> {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim_start)
        .take_while(|l| l.starts_with("//"))
        .map(|l| l.trim_start_matches("//").trim())
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// Short simulations (20 s, 5 s warm-up, 3 replications) of each model at 1x..10x.
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let single = std::fs::read_to_string(models_dir().join("single-server.ron")).unwrap();
        let farm = std::fs::read_to_string(models_dir().join("load-balanced.ron")).unwrap();
        let ron_name = AWKWARD.replace('"', "\\\"");
        let awkward = single.replace("name: \"Single server\"", &format!("name: \"{ron_name}\""));
        assert_ne!(
            awkward, single,
            "the single-server model's name line changed"
        );
        // (model text, swept parameters, monthly cost)
        type Case<'a> = (&'a str, Vec<(String, f64)>, Option<f64>);
        let cases: Vec<Case> = vec![
            (single.as_str(), vec![], Some(5.0)),
            (farm.as_str(), vec![], Some(60.0)),
            (awkward.as_str(), vec![("app.instances".into(), 2.0)], None),
        ];
        let mut results = Vec::new();
        let mut models = Vec::new();
        for (text, params, cost) in cases {
            let mut model = Model::from_text(text, "model.ron").expect("model loads");
            models.push(ModelInfo {
                name: model.name.clone(),
                description: model.description.clone(),
                notes: header_notes(text),
                monthly_cost: cost,
            });
            for (k, v) in &params {
                apply_parameter(&mut model, k, *v).expect("parameter applies");
            }
            for t in 1..=10 {
                let opts = RunOptions {
                    traffic: t as f64,
                    duration_s: Some(20.0),
                    warmup_s: Some(5.0),
                    replications: Some(3),
                    parameters: params.clone(),
                    ..Default::default()
                };
                results.push(run_point(&model, &opts).expect("run_point"));
            }
        }
        let knees = knees(&results, SLO, MAX_ERRORS);
        Fixture {
            results,
            knees,
            models,
        }
    })
}

/// The charts of the fixture, rendered once for the tests that only read them.
fn charts(f: &'static Fixture) -> &'static [Chart] {
    static C: OnceLock<Vec<Chart>> = OnceLock::new();
    C.get_or_init(|| report::charts::render_all(&output(f, false)))
}

fn output(f: &Fixture, story: bool) -> SweepOutput<'_> {
    SweepOutput {
        title: "Report test <sweep>",
        results: &f.results,
        knees: &f.knees,
        models: &f.models,
        slo_p99_ms: SLO,
        max_error_rate: MAX_ERRORS,
        story,
        timelines: &[],
    }
}

/// HTML escaping as the report does it.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// XML escaping as plotters' SVG backend does it.
fn svg_esc(s: &str) -> String {
    esc(s).replace("&#39;", "&apos;")
}

fn traffic(t: f64) -> String {
    format!("{t}x")
}

// ---------------------------------------------------------------------------------------------
// A PNG decoder, independent of the encoder under test.

struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    buf: u64,
    cnt: u32,
}

impl Bits<'_> {
    fn bits(&mut self, n: u32) -> u32 {
        while self.cnt < n {
            let b = *self.data.get(self.pos).expect("deflate stream ends early");
            self.pos += 1;
            self.buf |= (b as u64) << self.cnt;
            self.cnt += 8;
        }
        let v = (self.buf & ((1u64 << n) - 1)) as u32;
        self.buf >>= n;
        self.cnt -= n;
        v
    }
}

struct Huffman {
    count: [u16; 16],
    symbol: Vec<u16>,
}

impl Huffman {
    fn new(lengths: &[u8]) -> Huffman {
        let mut count = [0u16; 16];
        for &l in lengths {
            count[l as usize] += 1;
        }
        let mut offs = [0u16; 16];
        for l in 1..15 {
            offs[l + 1] = offs[l] + count[l];
        }
        let mut symbol = vec![0u16; lengths.len()];
        for (s, &l) in lengths.iter().enumerate() {
            if l != 0 {
                symbol[offs[l as usize] as usize] = s as u16;
                offs[l as usize] += 1;
            }
        }
        Huffman { count, symbol }
    }

    fn decode(&self, b: &mut Bits) -> u16 {
        let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
        for len in 1..16 {
            code |= b.bits(1) as i32;
            let count = self.count[len] as i32;
            if code - count < first {
                return self.symbol[(index + (code - first)) as usize];
            }
            index += count;
            first = (first + count) << 1;
            code <<= 1;
        }
        panic!("invalid Huffman code in deflate stream");
    }
}

const LBASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LEXT: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
const DBASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DEXT: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];

fn inflate(data: &[u8]) -> Vec<u8> {
    let mut b = Bits {
        data,
        pos: 0,
        buf: 0,
        cnt: 0,
    };
    let mut out: Vec<u8> = Vec::new();
    loop {
        let last = b.bits(1) == 1;
        match b.bits(2) {
            0 => {
                b.buf = 0;
                b.cnt = 0;
                let len = u16::from_le_bytes([data[b.pos], data[b.pos + 1]]) as usize;
                let nlen = u16::from_le_bytes([data[b.pos + 2], data[b.pos + 3]]) as usize;
                assert_eq!(len, !nlen & 0xFFFF, "stored block length check");
                b.pos += 4;
                out.extend_from_slice(&data[b.pos..b.pos + len]);
                b.pos += len;
            }
            kind @ (1 | 2) => {
                let (lit, dist) = if kind == 1 {
                    let mut l = [8u8; 288];
                    l[144..256].fill(9);
                    l[256..280].fill(7);
                    (Huffman::new(&l), Huffman::new(&[5u8; 30]))
                } else {
                    let nlen = b.bits(5) as usize + 257;
                    let ndist = b.bits(5) as usize + 1;
                    let ncode = b.bits(4) as usize + 4;
                    const ORDER: [usize; 19] = [
                        16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
                    ];
                    let mut cl = [0u8; 19];
                    for &i in &ORDER[..ncode] {
                        cl[i] = b.bits(3) as u8;
                    }
                    let clh = Huffman::new(&cl);
                    let mut lengths = Vec::with_capacity(nlen + ndist);
                    while lengths.len() < nlen + ndist {
                        match clh.decode(&mut b) {
                            s @ 0..=15 => lengths.push(s as u8),
                            16 => {
                                let prev = *lengths.last().expect("repeat with no previous length");
                                let n = 3 + b.bits(2);
                                lengths.extend(std::iter::repeat_n(prev, n as usize));
                            }
                            17 => {
                                let n = 3 + b.bits(3);
                                lengths.extend(std::iter::repeat_n(0, n as usize));
                            }
                            _ => {
                                let n = 11 + b.bits(7);
                                lengths.extend(std::iter::repeat_n(0, n as usize));
                            }
                        }
                    }
                    (
                        Huffman::new(&lengths[..nlen]),
                        Huffman::new(&lengths[nlen..]),
                    )
                };
                loop {
                    let sym = lit.decode(&mut b) as usize;
                    if sym < 256 {
                        out.push(sym as u8);
                    } else if sym == 256 {
                        break;
                    } else {
                        let i = sym - 257;
                        let len = LBASE[i] as usize + b.bits(LEXT[i] as u32) as usize;
                        let d = dist.decode(&mut b) as usize;
                        let dist = DBASE[d] as usize + b.bits(DEXT[d] as u32) as usize;
                        assert!(dist <= out.len(), "distance beyond the output");
                        let start = out.len() - dist;
                        for k in 0..len {
                            out.push(out[start + k]);
                        }
                    }
                }
            }
            _ => panic!("invalid deflate block type 3"),
        }
        if last {
            return out;
        }
    }
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &byte in bytes {
        c ^= byte as u32;
        for _ in 0..8 {
            c = if c & 1 == 1 {
                (c >> 1) ^ 0xEDB8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}

struct Image {
    width: usize,
    height: usize,
    channels: usize,
    pixels: Vec<u8>,
}

impl Image {
    fn rgb(&self, i: usize) -> [u8; 3] {
        let p = &self.pixels[i * self.channels..];
        match self.channels {
            1 | 2 => [p[0], p[0], p[0]],
            _ => [p[0], p[1], p[2]],
        }
    }

    fn distinct_colours(&self) -> usize {
        let mut seen = std::collections::HashSet::new();
        for i in 0..self.width * self.height {
            seen.insert(self.rgb(i));
        }
        seen.len()
    }

    fn count_near(&self, c: [u8; 3], tol: i32) -> usize {
        (0..self.width * self.height)
            .filter(|&i| {
                let p = self.rgb(i);
                (0..3).all(|k| (p[k] as i32 - c[k] as i32).abs() <= tol)
            })
            .count()
    }
}

/// Decodes an 8-bit, non-interlaced PNG, checking signature, chunk CRCs and the zlib checksum.
fn decode_png(png: &[u8]) -> Image {
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "no PNG signature");
    let mut pos = 8;
    let (mut width, mut height, mut channels) = (0usize, 0usize, 0usize);
    let mut idat = Vec::new();
    let mut ended = false;
    while pos + 12 <= png.len() {
        let len = u32::from_be_bytes(png[pos..pos + 4].try_into().unwrap()) as usize;
        let kind = &png[pos + 4..pos + 8];
        let data = &png[pos + 8..pos + 8 + len];
        let crc = u32::from_be_bytes(png[pos + 8 + len..pos + 12 + len].try_into().unwrap());
        assert_eq!(
            crc,
            crc32(&png[pos + 4..pos + 8 + len]),
            "bad CRC in chunk {kind:?}"
        );
        match kind {
            b"IHDR" => {
                width = u32::from_be_bytes(data[0..4].try_into().unwrap()) as usize;
                height = u32::from_be_bytes(data[4..8].try_into().unwrap()) as usize;
                assert_eq!(data[8], 8, "only 8-bit PNGs are handled here");
                channels = match data[9] {
                    0 => 1,
                    2 => 3,
                    4 => 2,
                    6 => 4,
                    other => panic!("unexpected PNG colour type {other}"),
                };
                assert_eq!(data[12], 0, "interlaced PNG");
            }
            b"IDAT" => idat.extend_from_slice(data),
            b"IEND" => {
                ended = true;
                break;
            }
            _ => {}
        }
        pos += 12 + len;
    }
    assert!(ended, "no IEND chunk");
    assert!(width > 0 && height > 0 && channels > 0, "no IHDR chunk");
    assert_eq!(idat[0] & 0x0F, 8, "zlib method is not deflate");
    assert_eq!(
        (idat[0] as u32 * 256 + idat[1] as u32) % 31,
        0,
        "bad zlib header"
    );
    let raw = inflate(&idat[2..]);
    let adler = {
        let (mut a, mut b) = (1u32, 0u32);
        for &x in &raw {
            a = (a + x as u32) % 65521;
            b = (b + a) % 65521;
        }
        (b << 16) | a
    };
    let n = idat.len();
    assert_eq!(
        u32::from_be_bytes(idat[n - 4..].try_into().unwrap()),
        adler,
        "bad Adler-32"
    );
    let stride = width * channels;
    assert_eq!(
        raw.len(),
        height * (stride + 1),
        "wrong amount of image data"
    );
    let mut pixels = vec![0u8; height * stride];
    for y in 0..height {
        let filter = raw[y * (stride + 1)];
        let line = &raw[y * (stride + 1) + 1..(y + 1) * (stride + 1)];
        for i in 0..stride {
            let a = if i >= channels {
                pixels[y * stride + i - channels]
            } else {
                0
            };
            let b = if y > 0 {
                pixels[(y - 1) * stride + i]
            } else {
                0
            };
            let c = if y > 0 && i >= channels {
                pixels[(y - 1) * stride + i - channels]
            } else {
                0
            };
            let pred = match filter {
                0 => 0,
                1 => a,
                2 => b,
                3 => ((a as u16 + b as u16) / 2) as u8,
                4 => {
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
                f => panic!("unknown PNG filter {f}"),
            };
            pixels[y * stride + i] = line[i].wrapping_add(pred);
        }
    }
    Image {
        width,
        height,
        channels,
        pixels,
    }
}

/// Checks that the tags of an XML (or HTML, whose `void` elements have no closing tag) document
/// are balanced, enough to catch truncation and unescaped text, and returns the element count.
fn check_tags(doc: &str, void: &[&str]) -> usize {
    let mut stack: Vec<String> = Vec::new();
    let mut elements = 0;
    let mut rest = doc;
    while let Some(start) = rest.find('<') {
        let text = &rest[..start];
        assert!(!text.contains('>'), "stray `>` in text: {text:?}");
        rest = &rest[start..];
        if let Some(r) = rest.strip_prefix("<!--") {
            let end = r.find("-->").expect("unterminated comment");
            rest = &r[end + 3..];
            continue;
        }
        if rest.starts_with("<?") || rest.starts_with("<!") {
            let end = rest.find('>').expect("unterminated declaration");
            rest = &rest[end + 1..];
            continue;
        }
        let end = rest.find('>').expect("unterminated tag");
        let tag = &rest[1..end];
        assert!(!tag.contains('<'), "`<` inside a tag: {tag:?}");
        assert_eq!(
            tag.matches('"').count() % 2,
            0,
            "unbalanced quotes in {tag:?}"
        );
        if let Some(name) = tag.strip_prefix('/') {
            let open = stack
                .pop()
                .unwrap_or_else(|| panic!("`</{name}>` closes nothing"));
            assert_eq!(open, name.trim(), "mismatched closing tag");
        } else {
            elements += 1;
            let name: String = tag
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != '/')
                .collect();
            if !tag.ends_with('/') && !void.contains(&name.as_str()) {
                stack.push(name);
            }
        }
        rest = &rest[end + 1..];
    }
    assert!(stack.is_empty(), "unclosed elements: {stack:?}");
    elements
}

fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => (c - b'A') as u32,
            b'a'..=b'z' => (c - b'a') as u32 + 26,
            b'0'..=b'9' => (c - b'0') as u32 + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("invalid base64 character {c}"),
        }
    };
    let bytes = s.as_bytes();
    assert_eq!(bytes.len() % 4, 0, "base64 length is not a multiple of 4");
    let mut out = Vec::new();
    for q in bytes.chunks(4) {
        let pad = q.iter().filter(|&&c| c == b'=').count();
        let n = q
            .iter()
            .take(4 - pad)
            .fold(0u32, |acc, &c| (acc << 6) | val(c))
            << (6 * pad);
        let b = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&b[..3 - pad]);
    }
    out
}

fn chart<'a>(charts: &'a [Chart], stem: &str) -> &'a Chart {
    charts
        .iter()
        .find(|c| c.stem == stem)
        .unwrap_or_else(|| panic!("no `{stem}` chart among {:?}", stems(charts)))
}

fn stems(charts: &[Chart]) -> Vec<&str> {
    charts.iter().map(|c| c.stem.as_str()).collect()
}

// ---------------------------------------------------------------------------------------------

#[test]
fn charts_are_valid_png_and_svg_with_titles_and_axis_labels() {
    let f = fixture();
    let charts = charts(f);
    let names = stems(charts);
    for expected in ["latency", "throughput", "errors", "cost"] {
        assert!(
            names.contains(&expected),
            "missing `{expected}` in {names:?}"
        );
    }
    let util: Vec<&&str> = names
        .iter()
        .filter(|s| s.starts_with("utilization-"))
        .collect();
    assert_eq!(
        util.len(),
        f.models.len(),
        "one utilization chart per model: {names:?}"
    );
    assert!(names.contains(&"utilization-single-server"));
    assert!(names.contains(&"utilization-load-balanced-farm"));

    let labels: &[(&str, &[&str])] = &[
        (
            "latency",
            &[
                "Latency (ms",
                "Traffic (multiple",
                "SLO: p99 ≤ 500 ms",
                "knee",
            ],
        ),
        (
            "throughput",
            &[
                "Offered load (requests/s)",
                "Throughput (successful requests/s)",
                "ideal",
            ],
        ),
        (
            "errors",
            &["Error rate (%", "Traffic (multiple", "error budget: 1%"],
        ),
        (
            "cost",
            &["Monthly cost ($", "p99 latency at 10x (ms", "$60/month"],
        ),
        (
            "utilization-single-server",
            &["Utilization (% of workers busy)", "Bottleneck: app"],
        ),
        (
            "utilization-load-balanced-farm",
            &["Utilization (% of workers busy)", "Bottleneck: db"],
        ),
    ];
    for c in charts {
        // PNG: decodes to a 1000×600 picture that is not blank.
        let img = decode_png(&c.png);
        assert_eq!((img.width, img.height), (1000, 600), "{}.png size", c.stem);
        let colours = img.distinct_colours();
        assert!(colours > 20, "{}.png has only {colours} colours", c.stem);
        let white = img.count_near([255, 255, 255], 0);
        assert!(
            white < img.width * img.height * 97 / 100,
            "{}.png is nearly blank",
            c.stem
        );
        assert!(
            img.count_near([34, 34, 34], 30) > 500,
            "{}.png has no dark text",
            c.stem
        );

        // SVG: balanced, sized, titled.
        assert!(
            c.svg.starts_with("<svg"),
            "{}.svg does not start with <svg",
            c.stem
        );
        assert!(c.svg.contains("width=\"1000\"") && c.svg.contains("height=\"600\""));
        let elements = check_tags(&c.svg, &[]);
        assert!(elements > 50, "{}.svg has only {elements} elements", c.stem);
        // The title, or its start when a long one is shortened with an ellipsis to fit.
        let start: String = c.title.chars().take(30).collect();
        assert!(
            c.svg.contains(&svg_esc(&c.title))
                || (c.svg.contains(&svg_esc(&start)) && c.svg.contains('…')),
            "{}.svg lacks its title {:?}",
            c.stem,
            c.title
        );
        assert!(!c.caption.is_empty() && !c.title.is_empty());
    }
    for (stem, want) in labels {
        let c = chart(charts, stem);
        for w in *want {
            assert!(
                c.svg.contains(&svg_esc(w)),
                "{stem}.svg lacks the text {w:?}"
            );
        }
    }
    // Every model is named in the comparison charts' legends, escaped.
    let awkward = svg_esc(AWKWARD);
    for stem in ["latency", "throughput", "errors"] {
        let svg = &chart(charts, stem).svg;
        assert!(svg.contains("Single server") && svg.contains("Load-balanced farm"));
        assert!(
            svg.contains(&awkward),
            "{stem}.svg lacks the escaped awkward name"
        );
        assert!(
            svg.contains("app.instances=2"),
            "{stem}.svg lacks the parameter label"
        );
    }
    // The latency spans more than two decades here (saturation), so its axis is logarithmic.
    assert!(chart(charts, "latency").svg.contains("log scale"));
}

#[test]
fn same_input_gives_byte_identical_files() {
    let f = fixture();
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let wa = report::write_sweep(a.path(), &output(f, true)).unwrap();
    let wb = report::write_sweep(b.path(), &output(f, true)).unwrap();
    assert_eq!(wa.len(), wb.len());
    let names: Vec<String> = wa
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().any(|n| n == "report.html"));
    assert!(names.iter().any(|n| n == "latency.png") && names.iter().any(|n| n == "latency.svg"));
    for n in &names {
        let x = std::fs::read(a.path().join(n)).unwrap();
        let y = std::fs::read(b.path().join(n)).unwrap();
        assert!(x == y, "{n} differs between two renders of the same input");
    }
    // And the files are the charts rendered in memory by another test, byte for byte.
    for c in charts(f) {
        let png = std::fs::read(a.path().join(format!("{}.png", c.stem))).unwrap();
        let svg = std::fs::read_to_string(a.path().join(format!("{}.svg", c.stem))).unwrap();
        assert!(png == c.png && svg == c.svg, "{} differs", c.stem);
    }
}

/// The knee sentence of SPEC's example, with the offered rate at the knee.
fn knee_sentence(f: &Fixture, k: &Knee) -> Option<String> {
    let t = k.max_traffic?;
    let r = f
        .results
        .iter()
        .find(|r| r.model == k.model && r.parameters == k.parameters && r.traffic == t)?;
    Some(format!(
        "holds the 500 ms p99 SLO up to {} = {:.0} req/s",
        traffic(t),
        r.offered_rps
    ))
}

#[test]
fn report_is_self_contained_and_opens_with_the_answer() {
    let f = fixture();
    let out = output(f, false);
    let charts = charts(f);
    let html = report::html::render(&out, charts);

    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<html lang=\"en\">") && html.contains("<meta charset=\"utf-8\">"));
    assert!(html.contains("name=\"viewport\""));
    assert!(html.trim_end().ends_with("</html>"));
    assert!(html.contains("<title>Report test &lt;sweep&gt;</title>"));

    // Nothing is fetched: no network, no absolute paths, no scripts.
    for bad in [
        "http://", "https://", "src=\"/", "href=\"/", "<script", "@import", "url(",
    ] {
        assert!(!html.contains(bad), "report.html contains {bad:?}");
    }
    // Every model name, escaped; the raw awkward name never appears.
    for m in &f.models {
        assert!(html.contains(&esc(&m.name)), "report lacks {:?}", m.name);
    }
    assert!(!html.contains(AWKWARD) && !html.contains("<b>"));

    // One inlined image per chart, each exactly the chart's PNG.
    assert_eq!(html.matches("<img ").count(), charts.len());
    for c in charts {
        let marker = format!(
            "<figure id=\"chart-{}\">\n<img src=\"data:image/png;base64,",
            c.stem
        );
        let at = html
            .find(&marker)
            .unwrap_or_else(|| panic!("no figure for {}", c.stem))
            + marker.len();
        let end = at + html[at..].find('"').unwrap();
        assert!(
            base64_decode(&html[at..end]) == c.png,
            "{} image differs",
            c.stem
        );
        assert!(
            html.contains(&esc(&c.caption)),
            "caption of {} missing",
            c.stem
        );
    }

    // The answer comes first: every series' knee, bottleneck and first failure.
    let answer = html.find("id=\"answer\"").expect("answer section");
    let charts_at = html.find("id=\"charts\"").expect("charts section");
    let tables_at = html.find("id=\"tables\"").expect("tables section");
    assert!(answer < charts_at && charts_at < tables_at);
    let head = &html[answer..charts_at];
    let mut sentences = 0;
    for k in &f.knees {
        if let Some(s) = knee_sentence(f, k) {
            assert!(head.contains(&s), "the answer lacks {s:?}");
            sentences += 1;
        }
        if let (Some(t), Some(reason)) = (k.first_failure, &k.failure_reason) {
            let s = format!("breaks first at {}: {}", traffic(t), esc(reason));
            assert!(head.contains(&s), "the answer lacks {s:?}");
            let b = k.breaks_first.as_deref().unwrap();
            assert!(
                head.contains(&format!("; {b} saturated"))
                    || head.contains(&format!("busiest: {b}"))
            );
        }
    }
    assert!(
        sentences >= 2,
        "expected knees for both bundled models: {:?}",
        f.knees
    );
    // Tables: a row per point, utilization columns, and the knee highlighted.
    assert_eq!(html.matches("<tr class=\"knee\">").count(), sentences);
    assert!(html.contains("<th>db<br>busy</th>") && html.contains("<th>app<br>busy</th>"));
    assert!(html.contains("id=\"how-to-read\""));
    assert!(check_tags(&html, &["meta", "img", "br"]) > 100);
}

#[test]
fn story_report_tells_each_model_in_order() {
    let f = fixture();
    let out = output(f, true);
    // The charts do not depend on `story`; only the report's arrangement does.
    let charts = charts(f);
    let html = report::html::render(&out, charts);
    assert_eq!(
        html.matches("<img ").count(),
        charts.len(),
        "each chart once"
    );
    let mut last = 0;
    for (i, m) in f.models.iter().enumerate() {
        let id = format!("<section class=\"step\" id=\"step-{}\">", i + 1);
        let at = html
            .find(&id)
            .unwrap_or_else(|| panic!("no section for step {}", i + 1));
        assert!(at > last, "steps out of order");
        last = at;
        let end = html[at..].find("</section>").map(|e| at + e).unwrap();
        let section = &html[at..end];
        assert!(
            section.contains(&esc(&m.name)),
            "step {} lacks its name",
            i + 1
        );
        if let Some(d) = &m.description {
            assert!(section.contains(&esc(d)));
        }
        // The notes from the file's comment header.
        assert!(
            section.contains("<strong>Look at:</strong>"),
            "step {} lacks its notes",
            i + 1
        );
        if i > 0 {
            assert!(
                section.contains("Compared with the previous step"),
                "step {}",
                i + 1
            );
        }
        if let Some(c) = m.monthly_cost {
            assert!(
                section.contains(&format!("${c}")),
                "step {} lacks its cost",
                i + 1
            );
        }
        assert!(
            section.contains("<img "),
            "step {} lacks its utilization chart",
            i + 1
        );
    }
    // The load-balanced farm raises the capacity and moves the bottleneck from app to db.
    assert!(html.contains("raises the capacity within the SLO"));
    assert!(html.contains("The bottleneck moved from app to db."));
}

fn find_chromium() -> Option<PathBuf> {
    let fixed = Path::new("/usr/bin/chromium");
    if fixed.is_file() {
        return Some(fixed.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser"] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

#[test]
fn report_screenshot_in_headless_chromium() {
    let Some(browser) = find_chromium() else {
        eprintln!("SKIPPED: no chromium found (install it with apt-get install -y chromium)");
        return;
    };
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("sweep");
    report::write_sweep(&out_dir, &output(f, false)).unwrap();
    let html = out_dir.join("report.html");
    let shot = dir.path().join("screenshot.png");
    let profile = dir.path().join("profile");
    std::fs::create_dir_all(&profile).unwrap();
    let log = std::fs::File::create(dir.path().join("chromium.log")).unwrap();
    let mut child = std::process::Command::new(&browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--window-size=1280,2000")
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", html.display()))
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", browser.display()));
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 90 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let log = std::fs::read_to_string(dir.path().join("chromium.log")).unwrap_or_default();
    assert!(status.success(), "chromium failed ({status}):\n{log}");
    let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("no screenshot ({e}):\n{log}"));
    assert!(png.len() > 50_000, "screenshot is only {} bytes", png.len());
    let img = decode_png(&png);
    assert_eq!((img.width, img.height), (1280, 2000));
    let colours = img.distinct_colours();
    assert!(
        colours > 100,
        "screenshot has only {colours} colours: blank page?"
    );
    let white = img.count_near([255, 255, 255], 3);
    assert!(
        white < img.width * img.height * 95 / 100,
        "screenshot is nearly all white"
    );
    // The first series' blue (the latency chart's lines and the answer's swatch) is on screen:
    // Chromium decoded the inlined PNG.
    let blue = img.count_near([0, 114, 178], 40);
    assert!(
        blue > 1000,
        "only {blue} pixels of the first series' colour: chart not drawn?"
    );
}

// ---------------------------------------------------------------------------------------------
// Timelines.

/// A small model whose traffic spikes (6x, 15-25 s) and whose only server crashes (35-40 s);
/// its name needs escaping.
const TIMELINE_MODEL: &str = r#"
// A spike, then a crash.
// Look at: the timeline.
Model(
    name: "Spike & crash <test>",
    description: "One small server: a 10 s 6x spike, then a 5 s crash.",
    workload: Workload(
        arrival: Poisson(rate: 40.0),
        entry: "app",
        profile: Spike(start_s: 15.0, duration_s: 10.0, factor: 6.0),
    ),
    components: {
        "app": Server(workers: 4, handler: [Work(Exp(mean_ms: 40.0))], queue_capacity: 50),
    },
    failures: [Crash(component: "app", instance: 0, at_s: 35.0, for_s: 5.0)],
    sim: Sim(duration_s: 50.0, warmup_s: 5.0, seed: 11),
)
"#;
const TIMELINE_NAME: &str = "Spike & crash <test>";
const TIMELINE_STEM: &str = "timeline-spike-crash-test";

struct TimelineFixture {
    results: Vec<RunSummary>,
    knees: Vec<Knee>,
    models: Vec<ModelInfo>,
    timelines: Vec<(String, archsim::stats::timeline::Timeline)>,
}

/// The spike-and-crash model at 1x..3x, and its timeline at 1x (1 s intervals).
fn timeline_fixture() -> &'static TimelineFixture {
    static F: OnceLock<TimelineFixture> = OnceLock::new();
    F.get_or_init(|| {
        let model = Model::from_text(TIMELINE_MODEL, "spike-crash.ron").expect("model loads");
        assert_eq!(model.name, TIMELINE_NAME);
        let run = |t: f64, timeline: bool| {
            let opts = RunOptions {
                traffic: t,
                replications: Some(1),
                timeline_s: timeline.then_some(1.0),
                ..Default::default()
            };
            run_point(&model, &opts).expect("run_point")
        };
        let results: Vec<RunSummary> = (1..=3).map(|t| run(t as f64, false)).collect();
        let tl = run(1.0, true).timeline.expect("a timeline was asked for");
        let knees = knees(&results, SLO, MAX_ERRORS);
        TimelineFixture {
            results,
            knees,
            models: vec![ModelInfo {
                name: model.name.clone(),
                description: model.description.clone(),
                notes: header_notes(TIMELINE_MODEL.trim_start()),
                monthly_cost: Some(5.0),
            }],
            timelines: vec![(model.name.clone(), tl)],
        }
    })
}

fn timeline_output(f: &TimelineFixture, story: bool) -> SweepOutput<'_> {
    SweepOutput {
        title: "Timeline test",
        results: &f.results,
        knees: &f.knees,
        models: &f.models,
        slo_p99_ms: SLO,
        max_error_rate: MAX_ERRORS,
        story,
        timelines: &f.timelines,
    }
}

#[test]
fn timeline_fixture_has_the_spike_and_the_crash() {
    let f = timeline_fixture();
    let tl = &f.timelines[0].1;
    assert_eq!(tl.interval_s, 1.0);
    assert_eq!(tl.points.len(), 50);
    let labels: Vec<&str> = tl.events.iter().map(|e| e.label.as_str()).collect();
    assert_eq!(labels, ["end of warm-up", "app crashes", "app recovers"]);
    let at = |t: f64| tl.points.iter().find(|p| p.t_s == t).unwrap();
    assert_eq!(at(20.0).offered_rps, Some(240.0));
    assert_eq!(at(30.0).offered_rps, Some(40.0));
    assert_eq!(at(37.0).up_fraction, vec![0.0]);
    assert_eq!(at(37.0).throughput_rps, 0.0);
    // The last interval is closed at the end of the run like the others: 40 requests/s of 40 ms
    // on 4 workers keep about 40% of them busy (it used to read 0).
    let last = &tl.points[49];
    assert!(
        (0.15..0.7).contains(&last.utilization[0]),
        "last interval utilization {}",
        last.utilization[0]
    );
    assert_eq!(last.up_fraction, vec![1.0]);
}

#[test]
fn timeline_chart_is_valid_labelled_and_deterministic() {
    let f = timeline_fixture();
    let (name, tl) = &f.timelines[0];
    let files = report::timeline::render(name, tl);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            format!("{TIMELINE_STEM}.svg"),
            format!("{TIMELINE_STEM}.png")
        ]
    );
    // Byte-identical on a second render.
    assert!(
        files == report::timeline::render(name, tl),
        "two renders of the same timeline differ"
    );

    // PNG: a 1000×800 picture with text, the spike's amber, the collapse's red and the blue
    // of goodput.
    let img = decode_png(&files[1].1);
    assert_eq!((img.width, img.height), (1000, 800));
    assert!(img.distinct_colours() > 50);
    assert!(img.count_near([255, 255, 255], 0) < img.width * img.height * 95 / 100);
    assert!(img.count_near([34, 34, 34], 30) > 500, "no dark text");
    assert!(img.count_near([0, 114, 178], 10) > 1000, "no goodput line");
    assert!(
        img.count_near([200, 0, 0], 10) > 300,
        "no red errors or crash line"
    );
    // Amber (230, 159, 0) at 16% over white: the spike's band.
    assert!(img.count_near([251, 241, 219], 6) > 5000, "no shaded spike");

    // SVG: balanced, sized, titled (escaped), every panel, event and shading labelled.
    let svg = std::str::from_utf8(&files[0].1).expect("SVG is UTF-8");
    assert!(svg.starts_with("<svg"));
    assert!(svg.contains("width=\"1000\"") && svg.contains("height=\"800\""));
    assert!(check_tags(svg, &[]) > 100);
    assert!(svg.contains(&svg_esc(&format!("Over time: {TIMELINE_NAME}"))));
    assert!(
        !svg.contains(TIMELINE_NAME),
        "unescaped model name in the SVG"
    );
    for want in [
        "Requests per second",
        "offered (the traffic profile)",
        "served (goodput)",
        "errors",
        "Latency of the requests served (ms",
        "p99",
        "p50",
        "Utilization (% of workers busy)",
        "app: instances up",
        "Time since the start of the run (s)",
        "end of warm-up",
        "app crashes",
        "app recovers",
        "traffic ×6",
        "warm-up (not in the summary)",
        "traffic above its starting rate",
        "collapsed: goodput under half the offered rate",
        "app down",
    ] {
        assert!(svg.contains(&svg_esc(want)), "timeline SVG lacks {want:?}");
    }
    // The subtitle says, from the data, that goodput collapsed in the spike and recovered, and
    // collapsed again with the crash.
    assert!(svg.contains("Goodput collapses below half of the offered rate at 15"));
    assert!(svg.contains("as the traffic spike starts"));
    assert!(svg.contains("just after app crashes"));
    assert!(svg.contains("collapsed 15"));
    assert!(svg.contains("collapsed 35"));

    let chart = report::timeline::chart(name, tl).expect("a chart");
    assert_eq!(chart.stem, TIMELINE_STEM);
    assert!(chart.png == files[1].1 && chart.svg.as_bytes() == files[0].1.as_slice());
    assert!(chart.caption.contains("recovers") && chart.caption.contains("Vertical lines mark"));

    // A steady timeline (no surge, no failure, no collapse) says so.
    let mut calm = tl.clone();
    calm.events.retain(|e| e.label == "end of warm-up");
    for p in &mut calm.points {
        p.offered_rps = Some(40.0);
        p.arrivals_rps = 40.0;
        p.throughput_rps = 40.0;
        p.errors_rps = 0.0;
        p.timeouts_rps = 0.0;
        p.error_rate = 0.0;
        p.latency_p50_ms = 30.0;
        p.latency_p99_ms = 120.0;
        p.up_fraction = vec![1.0];
        p.utilization = vec![0.4];
    }
    let calm = report::timeline::chart("Calm", &calm).expect("a chart");
    assert!(
        calm.svg
            .contains("Goodput follows the offered rate throughout")
    );
    assert!(!calm.svg.contains("collapsed"));
    assert_eq!(decode_png(&calm.png).width, 1000);
    // No points: no chart.
    let mut empty = tl.clone();
    empty.points.clear();
    assert!(report::timeline::render("Empty", &empty).is_empty());
}

/// The figure of `stem` in `html`: its start, and the PNG it inlines.
fn inlined(html: &str, stem: &str) -> (usize, Vec<u8>) {
    let marker = format!("<figure id=\"chart-{stem}\">\n<img src=\"data:image/png;base64,");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no figure for {stem}"));
    let at = start + marker.len();
    let end = at + html[at..].find('"').unwrap();
    (start, base64_decode(&html[at..end]))
}

#[test]
fn report_includes_the_timeline_charts() {
    let f = timeline_fixture();
    let (name, tl) = &f.timelines[0];
    let tl_chart = report::timeline::chart(name, tl).unwrap();
    for story in [false, true] {
        let out = timeline_output(f, story);
        let charts = report::charts::render_all(&out);
        let html = report::html::render(&out, &charts);
        assert_eq!(
            html.matches("<img ").count(),
            charts.len() + 1,
            "each chart once, and the timeline (story: {story})"
        );
        let (at, png) = inlined(&html, TIMELINE_STEM);
        assert!(png == tl_chart.png, "the inlined timeline is not the chart");
        assert!(html.contains("width=\"1000\" height=\"800\""));
        assert!(html.contains(&esc(&tl_chart.caption)), "timeline caption");
        assert!(html.contains(&esc(&format!("Over time: {TIMELINE_NAME}"))));
        assert!(!html.contains(TIMELINE_NAME), "unescaped model name");
        for file in ["svg", "png", "csv"] {
            let link = format!("<a href=\"{TIMELINE_STEM}.{file}\">");
            assert!(html.contains(&link), "no link to {TIMELINE_STEM}.{file}");
        }
        let util = inlined(&html, "utilization-spike-crash-test").0;
        if story {
            // In the model's step, after its utilization chart.
            let step = html.find("<section class=\"step\" id=\"step-1\">").unwrap();
            let step_end = step + html[step..].find("</section>").unwrap();
            assert!(
                step < util && util < at && at < step_end,
                "timeline not in its step"
            );
            assert!(!html.contains("id=\"over-time\""));
        } else {
            let section = html
                .find("<section id=\"over-time\">")
                .expect("Over time section");
            assert!(html[section..].contains("<h2>Over time</h2>"));
            let charts_at = html.find("id=\"charts\"").unwrap();
            let tables_at = html.find("id=\"tables\"").unwrap();
            assert!(charts_at < section && section < at && at < tables_at);
        }
        assert!(check_tags(&html, &["meta", "img", "br"]) > 100);
    }

    // write_sweep writes the timeline's CSV, SVG and PNG, the same bytes every time.
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let wa = report::write_sweep(a.path(), &timeline_output(f, true)).unwrap();
    let wb = report::write_sweep(b.path(), &timeline_output(f, true)).unwrap();
    assert_eq!(wa.len(), wb.len());
    for ext in ["csv", "svg", "png"] {
        let n = format!("{TIMELINE_STEM}.{ext}");
        let x = std::fs::read(a.path().join(&n)).unwrap_or_else(|e| panic!("{n}: {e}"));
        let y = std::fs::read(b.path().join(&n)).unwrap();
        assert!(x == y, "{n} differs between two writes");
    }
    assert!(std::fs::read(a.path().join(format!("{TIMELINE_STEM}.png"))).unwrap() == tl_chart.png);
    let html = std::fs::read_to_string(a.path().join("report.html")).unwrap();
    assert!(html == std::fs::read_to_string(b.path().join("report.html")).unwrap());
}

/// A cache's timeline shows its cold start: a dashed hit-ratio line in the utilization panel, and
/// a sentence with the first second's hit ratio, the steady one, and when it got close.
#[test]
fn cache_timeline_shows_the_cold_start() {
    let model = Model::from_text(
        r#"Model(
            name: "Cold cache",
            workload: Workload(arrival: Poisson(rate: 200.0), classes: [
                (name: "get", weight: 1.0, entry: "cache", op: Read, keys: Zipf(n: 2000, s: 0.9)),
            ]),
            components: {
                "cache": Cache(capacity: 1000, hit: Const(ms: 0.5), backend: "db"),
                "db": Database(workers: 8, read: Exp(mean_ms: 5.0), write: Exp(mean_ms: 10.0)),
            },
            sim: Sim(duration_s: 30.0, warmup_s: 10.0, seed: 3),
        )"#,
        "cold.ron",
    )
    .expect("model loads");
    let opts = RunOptions {
        traffic: 1.0,
        replications: Some(1),
        timeline_s: Some(1.0),
        ..Default::default()
    };
    let tl = run_point(&model, &opts)
        .expect("run_point")
        .timeline
        .expect("a timeline was asked for");
    let hit = |i: usize| tl.points[i].hit_ratio[0].expect("lookups every second");
    let steady = (10..30).map(hit).sum::<f64>() / 20.0;
    assert!(
        hit(0) < 0.6 * steady,
        "first second {} vs steady {steady}",
        hit(0)
    );
    let chart = report::timeline::chart(&model.name, &tl).expect("a chart");
    assert!(chart.svg.contains("cache: hit ratio"), "no hit-ratio key");
    assert!(chart.svg.contains("cache hit ratio (% of lookups)"));
    let expected = format!(
        "{}% of its lookups hit in the first second",
        (100.0 * hit(0)).round()
    );
    // The subtitle wraps over several text elements: compare the words.
    let mut words = String::new();
    let mut in_tag = false;
    for c in chart.svg.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                words.push(' ');
            }
            _ if !in_tag => words.push(c),
            _ => {}
        }
    }
    let words = words.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains("starts cold") && words.contains(&expected),
        "no cold-start sentence with {expected:?}"
    );
    assert!(
        chart.caption.contains("(dashed) each cache's hit ratio"),
        "{}",
        chart.caption
    );
}
