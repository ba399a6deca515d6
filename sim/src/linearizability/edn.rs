//! A small reader for EDN (extensible data notation), enough for Jepsen and Knossos histories.
//!
//! Supported: `nil`, booleans, integers (an `N` suffix is accepted), floats, strings with
//! escapes, characters, keywords, symbols, lists, vectors, maps, sets, tagged values (`#tag v`,
//! kept as [`Edn::Tagged`]), `#_` discards, `;` comments and commas as whitespace. Nesting deeper
//! than 256 levels is refused. Errors name the line; the reader never panics.

use super::ParseError;

/// An EDN value.
#[derive(Clone, Debug, PartialEq)]
pub enum Edn {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Char(char),
    /// A keyword, without the leading colon.
    Keyword(String),
    Symbol(String),
    List(Vec<Edn>),
    Vector(Vec<Edn>),
    Set(Vec<Edn>),
    /// A map, as key/value pairs in the order written.
    Map(Vec<(Edn, Edn)>),
    /// `#tag value`; the tag is without the `#`.
    Tagged(String, Box<Edn>),
}

impl Edn {
    /// For a map: the value under the keyword `:name` (give `name` without the colon).
    pub fn get(&self, name: &str) -> Option<&Edn> {
        match self {
            Edn::Map(pairs) => pairs
                .iter()
                .find(|(k, _)| matches!(k, Edn::Keyword(s) if s == name))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The keyword's name, if this is a keyword.
    pub fn as_keyword(&self) -> Option<&str> {
        match self {
            Edn::Keyword(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, if this is one.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Edn::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Edn::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The elements of a list or vector.
    pub fn as_seq(&self) -> Option<&[Edn]> {
        match self {
            Edn::List(v) | Edn::Vector(v) => Some(v),
            _ => None,
        }
    }
}

/// Reads exactly one EDN value (surrounded by optional whitespace and comments).
pub fn parse_edn(text: &str) -> Result<Edn, ParseError> {
    let mut r = Reader::new(text);
    r.skip_space()?;
    let value = r.value(0)?;
    r.skip_space()?;
    if r.pos < r.bytes.len() {
        return Err(r.error("unexpected text after the value"));
    }
    Ok(value)
}

/// Reads a text that is one list or vector, returning its elements with the line (1-based)
/// where each starts.
pub(crate) fn parse_edn_items(text: &str) -> Result<Vec<(usize, Edn)>, ParseError> {
    let mut r = Reader::new(text);
    r.skip_space()?;
    let close = match r.peek() {
        Some(b'[') => b']',
        Some(b'(') => b')',
        _ => return Err(r.error("expected the history to be a vector `[...]` or a list `(...)`")),
    };
    r.pos += 1;
    let mut items = Vec::new();
    loop {
        r.skip_space()?;
        match r.peek() {
            None => return Err(r.error("unclosed history collection at end of input")),
            Some(c) if c == close => {
                r.pos += 1;
                break;
            }
            Some(_) => {
                let line = r.line;
                if let Some(v) = r.element(0)? {
                    items.push((line, v));
                }
            }
        }
    }
    r.skip_space()?;
    if r.pos < r.bytes.len() {
        return Err(r.error("unexpected text after the history"));
    }
    Ok(items)
}

const MAX_DEPTH: usize = 256;

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line: usize,
}

fn is_delimiter(c: u8) -> bool {
    c.is_ascii_whitespace()
        || matches!(
            c,
            b',' | b'(' | b')' | b'[' | b']' | b'{' | b'}' | b'"' | b';'
        )
}

impl<'a> Reader<'a> {
    fn new(text: &'a str) -> Self {
        Reader {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            line: 1,
        }
    }

    fn error(&self, message: impl Into<String>) -> ParseError {
        ParseError {
            line: self.line,
            message: message.into(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.pos += 1;
        if c == b'\n' {
            self.line += 1;
        }
        Some(c)
    }

    /// Skips whitespace, commas and comments.
    fn skip_space(&mut self) -> Result<(), ParseError> {
        while let Some(c) = self.peek() {
            if c.is_ascii_whitespace() || c == b',' {
                self.bump();
            } else if c == b';' {
                while let Some(c) = self.peek() {
                    if c == b'\n' {
                        break;
                    }
                    self.bump();
                }
            } else {
                break;
            }
        }
        Ok(())
    }

    /// Reads a value, skipping `#_` discards before it.
    fn value(&mut self, depth: usize) -> Result<Edn, ParseError> {
        loop {
            if let Some(v) = self.element(depth)? {
                return Ok(v);
            }
            self.skip_space()?;
        }
    }

    /// Reads one element; `None` if it was a `#_` discard (which consumes the next value).
    fn element(&mut self, depth: usize) -> Result<Option<Edn>, ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.error("nesting too deep"));
        }
        let Some(c) = self.peek() else {
            return Err(self.error("unexpected end of input, expected a value"));
        };
        let v = match c {
            b'(' => {
                self.bump();
                Edn::List(self.seq(b')', depth)?)
            }
            b'[' => {
                self.bump();
                Edn::Vector(self.seq(b']', depth)?)
            }
            b'{' => {
                self.bump();
                let items = self.seq(b'}', depth)?;
                if items.len() % 2 != 0 {
                    return Err(self.error("map with an odd number of forms"));
                }
                let mut pairs = Vec::with_capacity(items.len() / 2);
                let mut it = items.into_iter();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    pairs.push((k, v));
                }
                Edn::Map(pairs)
            }
            b')' | b']' | b'}' => {
                return Err(self.error(format!("unexpected `{}`", c as char)));
            }
            b'"' => {
                self.bump();
                Edn::Str(self.string()?)
            }
            b'\\' => {
                self.bump();
                Edn::Char(self.character()?)
            }
            b'#' => {
                self.bump();
                match self.peek() {
                    Some(b'{') => {
                        self.bump();
                        Edn::Set(self.seq(b'}', depth)?)
                    }
                    Some(b'_') => {
                        self.bump();
                        self.skip_space()?;
                        self.value(depth + 1)?;
                        return Ok(None);
                    }
                    Some(c) if !is_delimiter(c) && c != b'#' => {
                        let tag = self.token().to_string();
                        self.skip_space()?;
                        let v = self.value(depth + 1)?;
                        Edn::Tagged(tag, Box::new(v))
                    }
                    _ => return Err(self.error("unsupported `#` form")),
                }
            }
            _ => {
                let line = self.line;
                let token = self.token();
                atom(token).map_err(|message| ParseError { line, message })?
            }
        };
        Ok(Some(v))
    }

    fn seq(&mut self, close: u8, depth: usize) -> Result<Vec<Edn>, ParseError> {
        let mut items = Vec::new();
        loop {
            self.skip_space()?;
            match self.peek() {
                None => {
                    return Err(self.error(format!(
                        "unexpected end of input, expected `{}`",
                        close as char
                    )))
                }
                Some(c) if c == close => {
                    self.bump();
                    return Ok(items);
                }
                Some(_) => {
                    if let Some(v) = self.element(depth + 1)? {
                        items.push(v);
                    }
                }
            }
        }
    }

    /// A run of non-delimiter characters (at least one, the current one).
    fn token(&mut self) -> &'a str {
        let start = self.pos;
        self.pos += 1;
        while let Some(c) = self.peek() {
            if is_delimiter(c) {
                break;
            }
            self.pos += 1;
        }
        // Delimiters are ASCII, so both ends are on character boundaries.
        self.text.get(start..self.pos).unwrap_or("")
    }

    fn string(&mut self) -> Result<String, ParseError> {
        let start_line = self.line;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Some(c) = self.bump() else {
                return Err(ParseError {
                    line: start_line,
                    message: "unterminated string".to_string(),
                });
            };
            match c {
                b'"' => break,
                b'\\' => {
                    let Some(e) = self.bump() else {
                        continue;
                    };
                    match e {
                        b'"' | b'\\' | b'/' => out.push(e),
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'u' => {
                            let ch = self.unicode_escape()?;
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                        }
                        _ => return Err(self.error("unknown escape in string")),
                    }
                }
                _ => out.push(c),
            }
        }
        String::from_utf8(out).map_err(|_| self.error("string is not valid UTF-8"))
    }

    fn unicode_escape(&mut self) -> Result<char, ParseError> {
        let hex = self
            .text
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| self.error("short \\u escape"))?;
        let code = u32::from_str_radix(hex, 16).map_err(|_| self.error("bad \\u escape"))?;
        self.pos += 4;
        char::from_u32(code).ok_or_else(|| self.error("\\u escape is not a character"))
    }

    fn character(&mut self) -> Result<char, ParseError> {
        let Some(c) = self.peek() else {
            return Err(self.error("unexpected end of input after `\\`"));
        };
        if is_delimiter(c) {
            self.bump();
            return Ok(c as char);
        }
        // The next character (possibly multi-byte), then any further token characters.
        let rest = self.text.get(self.pos..).unwrap_or("");
        let first = rest.chars().next().unwrap_or(' ');
        let start = self.pos;
        self.pos += first.len_utf8();
        while let Some(c) = self.peek() {
            if is_delimiter(c) {
                break;
            }
            self.pos += 1;
        }
        let token = self.text.get(start..self.pos).unwrap_or("");
        match token {
            "newline" => Ok('\n'),
            "space" => Ok(' '),
            "tab" => Ok('\t'),
            "return" => Ok('\r'),
            "backspace" => Ok('\u{8}'),
            "formfeed" => Ok('\u{c}'),
            _ if token.len() == first.len_utf8() => Ok(first),
            _ if token.len() == 5 && token.starts_with('u') => {
                let code = u32::from_str_radix(&token[1..], 16)
                    .map_err(|_| self.error("bad character literal"))?;
                char::from_u32(code).ok_or_else(|| self.error("bad character literal"))
            }
            _ => Err(self.error(format!("unknown character literal \\{token}"))),
        }
    }
}

/// A symbol-like token: nil, true, false, a number, a keyword or a symbol.
fn atom(token: &str) -> Result<Edn, String> {
    match token {
        "nil" => return Ok(Edn::Nil),
        "true" => return Ok(Edn::Bool(true)),
        "false" => return Ok(Edn::Bool(false)),
        _ => {}
    }
    if let Some(name) = token.strip_prefix(':') {
        if name.is_empty() {
            return Err("empty keyword".to_string());
        }
        return Ok(Edn::Keyword(name.to_string()));
    }
    let b = token.as_bytes();
    let numeric = b.first().is_some_and(u8::is_ascii_digit)
        || (matches!(b.first(), Some(b'+' | b'-')) && b.get(1).is_some_and(u8::is_ascii_digit));
    if !numeric {
        return Ok(Edn::Symbol(token.to_string()));
    }
    if let Some(int) = token.strip_suffix('N') {
        return int
            .parse::<i64>()
            .map(Edn::Int)
            .map_err(|_| format!("integer out of range: {token}"));
    }
    if token.contains(['.', 'e', 'E', 'M']) {
        return token
            .trim_end_matches('M')
            .parse::<f64>()
            .map(Edn::Float)
            .map_err(|_| format!("bad number: {token}"));
    }
    token
        .parse::<i64>()
        .map(Edn::Int)
        .map_err(|_| format!("bad or out-of-range integer: {token}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_values() {
        let v = parse_edn(
            "; comment\n{:a 1, :b [nil true -2 3.5 \"x\\\"y\\u0041\"] :c #{:k} :d (sym #_ 9 #t 4) :e \\z}",
        )
        .unwrap();
        assert_eq!(v.get("a"), Some(&Edn::Int(1)));
        assert_eq!(
            v.get("b").and_then(Edn::as_seq).unwrap(),
            &[
                Edn::Nil,
                Edn::Bool(true),
                Edn::Int(-2),
                Edn::Float(3.5),
                Edn::Str("x\"yA".into())
            ]
        );
        assert_eq!(v.get("c"), Some(&Edn::Set(vec![Edn::Keyword("k".into())])));
        assert_eq!(
            v.get("d"),
            Some(&Edn::List(vec![
                Edn::Symbol("sym".into()),
                Edn::Tagged("t".into(), Box::new(Edn::Int(4)))
            ]))
        );
        assert_eq!(v.get("e"), Some(&Edn::Char('z')));
    }

    #[test]
    fn items_carry_lines() {
        let items = parse_edn_items("[{:a 1}\n ; c\n {:a\n 2}]").unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].0, 1);
        assert_eq!(items[1].0, 3);
    }

    #[test]
    fn errors_do_not_panic() {
        for bad in [
            "",
            "[",
            "{:a}",
            "\"abc",
            "(1 2",
            ")",
            "#",
            "\\",
            "[1 2] 3",
            "99999999999999999999",
            "\"\\u12\"",
            "\"\\",
            "#_",
            "\\u12345",
            "[é",
        ] {
            assert!(parse_edn(bad).is_err(), "{bad:?} should fail");
        }
        let deep = "[".repeat(10_000);
        assert!(parse_edn(&deep).is_err());
        assert!(parse_edn_items("{:a 1}").is_err());
        assert_eq!(parse_edn("\\é").unwrap(), Edn::Char('é'));
    }
}
