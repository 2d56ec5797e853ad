//! Source positions for values inside a RON file, so that errors found after parsing (an unknown
//! call target, a probability above one) can still name the line and column of the offending value.
//!
//! serde throws positions away, so this is a small second reader of the same text. It runs only on
//! files that ron has already accepted, so it can afford to be lenient: on anything it does not
//! understand it stops, and lookups of the paths it did not reach fall back to their parents.

use std::collections::HashMap;
use std::fmt;

/// A 1-based line and column (columns count characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: Pos,
    pub end: Pos,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// A path to a value: segments joined by `/`, e.g. `components/app/handler/1/p`. Struct fields and
/// map keys are named; list and tuple elements are numbered; `Some(x)` is transparent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Path(String);

impl Path {
    pub fn root() -> Path {
        Path(String::new())
    }
    pub fn join(&self, seg: impl fmt::Display) -> Path {
        if self.0.is_empty() {
            Path(seg.to_string())
        } else {
            Path(format!("{}/{}", self.0, seg))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    fn parent(&self) -> Option<Path> {
        if self.0.is_empty() {
            None
        } else {
            Some(Path(match self.0.rfind('/') {
                Some(i) => self.0[..i].to_string(),
                None => String::new(),
            }))
        }
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where each value (and each map key, under `KEY_MARK` + path) starts and ends.
#[derive(Debug, Default)]
pub struct SpanMap {
    spans: HashMap<String, Span>,
    /// Map keys that appear twice in the same map: (path of the map entry, span of the second key).
    pub duplicate_keys: Vec<(Path, Span)>,
}

const KEY_MARK: &str = "#key:";

impl SpanMap {
    pub fn scan(text: &str) -> SpanMap {
        let mut s = Scanner::new(text);
        s.skip_trivia();
        s.skip_attributes();
        s.value(&Path::root());
        s.out
    }

    /// Whether the text holds nothing but white space and comments.
    pub fn is_blank(text: &str) -> bool {
        let mut s = Scanner::new(text);
        s.skip_trivia();
        s.peek().is_none()
    }

    /// The first position at or after `from` that is not white space or a comment (parsers
    /// often report a value's position as the end of what came before it).
    pub fn skip_trivia_from(text: &str, from: Pos) -> Pos {
        let mut s = Scanner::new(text);
        while s.pos() < from && s.bump().is_some() {}
        if s.pos() != from {
            return from;
        }
        s.skip_trivia();
        if s.peek().is_none() { from } else { s.pos() }
    }

    /// The span of the value at `path`, or of its nearest ancestor that was recorded.
    pub fn value(&self, path: &Path) -> Span {
        let mut p = Some(path.clone());
        while let Some(q) = p {
            if let Some(s) = self.spans.get(q.as_str()) {
                return *s;
            }
            p = q.parent();
        }
        Span {
            start: Pos { line: 1, col: 1 },
            end: Pos { line: 1, col: 1 },
        }
    }

    /// The span of the map key naming the entry at `path` (falls back to the value).
    pub fn key(&self, path: &Path) -> Span {
        self.spans
            .get(&format!("{KEY_MARK}{}", path.as_str()))
            .copied()
            .unwrap_or_else(|| self.value(path))
    }
}

struct Scanner {
    chars: Vec<char>,
    i: usize,
    line: usize,
    col: usize,
    out: SpanMap,
}

impl Scanner {
    fn new(text: &str) -> Scanner {
        Scanner {
            chars: text.chars().collect(),
            i: 0,
            line: 1,
            col: 1,
            out: SpanMap::default(),
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.i).copied()
    }
    fn peek_at(&self, k: usize) -> Option<char> {
        self.chars.get(self.i + k).copied()
    }
    fn pos(&self) -> Pos {
        Pos {
            line: self.line,
            col: self.col,
        }
    }
    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.i += 1;
        if c == '\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }

    fn skip_trivia(&mut self) {
        loop {
            match (self.peek(), self.peek_at(1)) {
                (Some(c), _) if c.is_whitespace() => {
                    self.bump();
                }
                (Some('/'), Some('/')) => {
                    while let Some(c) = self.peek() {
                        if c == '\n' {
                            break;
                        }
                        self.bump();
                    }
                }
                (Some('/'), Some('*')) => {
                    // RON block comments nest.
                    self.bump();
                    self.bump();
                    let mut depth = 1;
                    while depth > 0 {
                        match (self.peek(), self.peek_at(1)) {
                            (None, _) => return,
                            (Some('*'), Some('/')) => {
                                self.bump();
                                self.bump();
                                depth -= 1;
                            }
                            (Some('/'), Some('*')) => {
                                self.bump();
                                self.bump();
                                depth += 1;
                            }
                            _ => {
                                self.bump();
                            }
                        }
                    }
                }
                _ => return,
            }
        }
    }

    fn skip_attributes(&mut self) {
        while self.peek() == Some('#') {
            while let Some(c) = self.bump() {
                if c == ']' {
                    break;
                }
            }
            self.skip_trivia();
        }
    }

    fn ident(&mut self) -> String {
        let mut s = String::new();
        // Raw identifiers `r#name`.
        if self.peek() == Some('r') && self.peek_at(1) == Some('#') {
            self.bump();
            self.bump();
        }
        while let Some(c) = self.peek() {
            if c.is_alphanumeric() || c == '_' {
                s.push(c);
                self.bump();
            } else {
                break;
            }
        }
        s
    }

    fn string(&mut self) -> String {
        let mut s = String::new();
        if self.peek() == Some('r') {
            // Raw string r##"..."##.
            self.bump();
            let mut hashes = 0;
            while self.peek() == Some('#') {
                hashes += 1;
                self.bump();
            }
            self.bump(); // opening quote
            loop {
                match self.bump() {
                    None => return s,
                    Some('"') => {
                        let mut n = 0;
                        while n < hashes && self.peek() == Some('#') {
                            n += 1;
                            self.bump();
                        }
                        if n == hashes {
                            return s;
                        }
                        s.push('"');
                        s.extend(std::iter::repeat_n('#', n));
                    }
                    Some(c) => s.push(c),
                }
            }
        }
        self.bump(); // opening quote
        while let Some(c) = self.bump() {
            match c {
                '"' => break,
                '\\' => {
                    if let Some(e) = self.bump() {
                        s.push(match e {
                            'n' => '\n',
                            't' => '\t',
                            other => other,
                        });
                    }
                }
                c => s.push(c),
            }
        }
        s
    }

    /// Reads one value starting at the current position and records its span under `path`.
    fn value(&mut self, path: &Path) -> Option<String> {
        self.skip_trivia();
        let start = self.pos();
        let mut text_value = None;
        match self.peek()? {
            '"' => text_value = Some(self.string()),
            'r' if matches!(self.peek_at(1), Some('"') | Some('#'))
                && !(self.peek_at(1) == Some('#')
                    && self.peek_at(2).is_some_and(|c| c.is_alphabetic())) =>
            {
                text_value = Some(self.string())
            }
            '\'' => {
                self.bump();
                while let Some(c) = self.bump() {
                    if c == '\\' {
                        self.bump();
                    } else if c == '\'' {
                        break;
                    }
                }
            }
            '(' => self.items(path, ')')?,
            '[' => self.items(path, ']')?,
            '{' => self.map(path)?,
            c if c.is_alphabetic() || c == '_' => {
                let name = self.ident();
                self.skip_trivia();
                if self.peek() == Some('(') {
                    if name == "Some" {
                        // Transparent: the inner value carries the path.
                        self.bump();
                        let inner = self.value(path);
                        self.skip_trivia();
                        if self.peek() == Some(',') {
                            self.bump();
                            self.skip_trivia();
                        }
                        if self.peek() == Some(')') {
                            self.bump();
                        }
                        let end = self.pos();
                        self.out
                            .spans
                            .insert(path.as_str().to_string(), Span { start, end });
                        return inner;
                    }
                    self.items(path, ')')?;
                } else {
                    text_value = Some(name);
                }
            }
            c if c.is_ascii_digit() || c == '-' || c == '+' || c == '.' => {
                while let Some(c) = self.peek() {
                    if c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '+') {
                        // A sign is part of a number only at its start or after an exponent.
                        if matches!(c, '-' | '+')
                            && self.pos() != start
                            && !matches!(self.chars.get(self.i - 1), Some('e') | Some('E'))
                        {
                            break;
                        }
                        self.bump();
                    } else {
                        break;
                    }
                }
            }
            _ => return None,
        }
        let end = self.pos();
        self.out
            .spans
            .insert(path.as_str().to_string(), Span { start, end });
        text_value.or(Some(String::new()))
    }

    /// `( ... )` or `[ ... ]`: named fields or positional elements.
    fn items(&mut self, path: &Path, close: char) -> Option<()> {
        self.bump();
        let mut index = 0;
        loop {
            self.skip_trivia();
            if self.peek()? == close {
                self.bump();
                return Some(());
            }
            if close == ')' && self.at_named_field() {
                let name = self.ident();
                self.skip_trivia();
                self.bump(); // ':'
                self.value(&path.join(&name))?;
            } else {
                self.value(&path.join(index))?;
                index += 1;
            }
            self.skip_trivia();
            match self.peek()? {
                ',' => {
                    self.bump();
                }
                c if c == close => {}
                _ => return None,
            }
        }
    }

    fn at_named_field(&self) -> bool {
        let mut k = self.i;
        if self.chars.get(k) == Some(&'r') && self.chars.get(k + 1) == Some(&'#') {
            k += 2;
        }
        let first = match self.chars.get(k) {
            Some(c) if c.is_alphabetic() || *c == '_' => k,
            _ => return false,
        };
        k = first;
        while self
            .chars
            .get(k)
            .is_some_and(|c| c.is_alphanumeric() || *c == '_')
        {
            k += 1;
        }
        while self.chars.get(k).is_some_and(|c| c.is_whitespace()) {
            k += 1;
        }
        self.chars.get(k) == Some(&':') && self.chars.get(k + 1) != Some(&':')
    }

    fn map(&mut self, path: &Path) -> Option<()> {
        self.bump();
        let mut seen = std::collections::HashSet::new();
        let mut index = 0;
        loop {
            self.skip_trivia();
            if self.peek()? == '}' {
                self.bump();
                return Some(());
            }
            let key_start = self.pos();
            let key_path = path.join(format!("{KEY_MARK}{index}"));
            let key = self.value(&key_path)?;
            let key_span = Span {
                start: key_start,
                end: self.pos(),
            };
            let entry = path.join(&key);
            if !seen.insert(key.clone()) {
                self.out.duplicate_keys.push((entry.clone(), key_span));
            } else {
                self.out
                    .spans
                    .insert(format!("{KEY_MARK}{}", entry.as_str()), key_span);
            }
            self.skip_trivia();
            self.bump(); // ':'
            self.value(&entry)?;
            index += 1;
            self.skip_trivia();
            match self.peek()? {
                ',' => {
                    self.bump();
                }
                '}' => {}
                _ => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_values_fields_and_keys() {
        let text = "Model(\n  name: \"x\", // c\n  components: {\n    \"app\": Server(workers: 4, handler: [Work(Exp(mean_ms: 2.0)), Maybe(p: 1.5, steps: [])]),\n  },\n  sim: Some(Sim(seed: 3)),\n)";
        let m = SpanMap::scan(text);
        let p = Path::root().join("components").join("app");
        assert_eq!(m.value(&p.join("workers")).start, Pos { line: 4, col: 28 });
        assert_eq!(
            m.value(&p.join("handler").join(1).join("p")).start,
            Pos { line: 4, col: 75 }
        );
        assert_eq!(
            m.value(&p.join("handler").join(0).join(0).join("mean_ms"))
                .start,
            Pos { line: 4, col: 59 }
        );
        assert_eq!(m.key(&p).start, Pos { line: 4, col: 5 });
        assert_eq!(
            m.value(&Path::root().join("sim").join("seed")).start,
            Pos { line: 6, col: 23 }
        );
        // Unknown paths fall back to the nearest known ancestor.
        assert_eq!(m.value(&p.join("nope")).start, m.value(&p).start);
    }

    #[test]
    fn reports_duplicate_keys() {
        let m = SpanMap::scan("{ \"a\": 1, \"b\": 2, \"a\": 3 }");
        assert_eq!(m.duplicate_keys.len(), 1);
        assert_eq!(m.duplicate_keys[0].1.start, Pos { line: 1, col: 19 });
    }

    #[test]
    fn negative_numbers_and_block_comments() {
        let m = SpanMap::scan("/* a /* nested */ */ (x: -1.5e-3, y: [1, -2])");
        assert_eq!(
            m.value(&Path::root().join("x")).start,
            Pos { line: 1, col: 26 }
        );
        assert_eq!(
            m.value(&Path::root().join("y").join(1)).end,
            Pos { line: 1, col: 44 }
        );
    }
}
