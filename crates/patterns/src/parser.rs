//! The parser: tokens to [`Pattern`], by recursive descent.
//!
//! One function per grammar rule; each binary-operator level loops over its
//! operator (all are left-associative) and builds an n-ary node. Recursion
//! happens only through parentheses and brackets, whose depth is capped by
//! [`MAX_NESTING_DEPTH`], so no input can overflow the stack. The first error
//! stops the parse; it names the token found and what the grammar allows.

use crate::ast::{
    CompOp, Comparison, ComparisonExpr, Literal, ObjectPath, ObservationExpr, Operand, PathStep,
    Pattern, Qualifier,
};
use crate::error::{ParseError, ParseErrorKind, Position, Span};
use crate::lexer::{tokenize, Token, TokenKind};
use crate::timestamp::Timestamp;
use crate::{MAX_NESTING_DEPTH, MAX_PATTERN_LEN};

/// Parses STIX 2.1 pattern text into its syntax tree.
///
/// Only the grammar is checked here; [`crate::check`] adds the semantic
/// checks. Fails on the first syntax error, on patterns longer than
/// [`MAX_PATTERN_LEN`] bytes and on nesting deeper than
/// [`MAX_NESTING_DEPTH`].
///
/// ```
/// let p = accord_patterns::parse("[file:name = 'a.exe'] FOLLOWEDBY [process:pid = 4] WITHIN 60 SECONDS")?;
/// assert_eq!(p.to_string(), "[file:name = 'a.exe'] FOLLOWEDBY [process:pid = 4] WITHIN 60 SECONDS");
///
/// let err = accord_patterns::parse("[file:name = 'a.exe'] within 60 seconds").unwrap_err();
/// assert_eq!((err.position.line, err.position.column), (1, 23));
/// # Ok::<(), accord_patterns::ParseError>(())
/// ```
pub fn parse(src: &str) -> Result<Pattern, ParseError> {
    if src.len() > MAX_PATTERN_LEN {
        return Err(ParseError {
            kind: ParseErrorKind::TooLong { len: src.len() },
            position: Position::of(src, MAX_PATTERN_LEN),
            span: Span::new(MAX_PATTERN_LEN, src.len()),
            message: format!(
                "the pattern is {} bytes long; at most {MAX_PATTERN_LEN} are accepted",
                src.len()
            ),
        });
    }
    let tokens = tokenize(src);
    let mut p = Parser {
        src,
        tokens,
        pos: 0,
        depth: 0,
    };
    if p.peek().kind == TokenKind::Eof {
        return Err(p.error_at(
            p.peek(),
            ParseErrorKind::Empty,
            "the pattern is empty".into(),
        ));
    }
    let expr = p.observation_expressions()?;
    p.expect(TokenKind::Eof, &OBS_CONTINUATIONS)?;
    Ok(Pattern { expr })
}

/// What may follow a complete observation expression.
const OBS_CONTINUATIONS: [&str; 7] = [
    "AND",
    "OR",
    "FOLLOWEDBY",
    "WITHIN",
    "REPEATS",
    "START",
    "end of pattern",
];

struct Parser<'a> {
    src: &'a str,
    tokens: Vec<Token<'a>>,
    pos: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Token<'a> {
        // The token list always ends with Eof and `pos` never passes it.
        self.tokens[self.pos.min(self.tokens.len() - 1)]
    }

    fn bump(&mut self) -> Token<'a> {
        let t = self.peek();
        if t.kind != TokenKind::Eof {
            self.pos += 1;
        }
        t
    }

    fn eat(&mut self, kind: TokenKind) -> Option<Token<'a>> {
        (self.peek().kind == kind).then(|| self.bump())
    }

    fn expect(
        &mut self,
        kind: TokenKind,
        expected: &[&'static str],
    ) -> Result<Token<'a>, ParseError> {
        self.eat(kind).ok_or_else(|| self.unexpected(expected))
    }

    fn error_at(&self, tok: Token<'a>, kind: ParseErrorKind, message: String) -> ParseError {
        ParseError {
            kind,
            position: Position::of(self.src, tok.span.start),
            span: tok.span,
            message,
        }
    }

    /// An error for the current token, listing what was expected.
    fn unexpected(&self, expected: &[&'static str]) -> ParseError {
        let tok = self.peek();
        if tok.kind == TokenKind::Invalid {
            let c = tok.text.chars().next().unwrap_or('\u{FFFD}');
            let msg = format!("unexpected character {c:?}");
            return self.error_at(tok, ParseErrorKind::InvalidCharacter(c), msg);
        }
        let found = describe(tok);
        let list = match expected {
            [one] => (*one).to_owned(),
            [init @ .., last] => format!("one of {} or {last}", init.join(", ")),
            [] => "nothing".to_owned(),
        };
        let mut message = format!("expected {list}, found {found}");
        if let Some(hint) = hint(tok, expected) {
            message.push_str(" (");
            message.push_str(hint);
            message.push(')');
        }
        self.error_at(
            tok,
            ParseErrorKind::Unexpected {
                found,
                expected: expected.to_vec(),
            },
            message,
        )
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_NESTING_DEPTH {
            let tok = self.peek();
            return Err(self.error_at(
                tok,
                ParseErrorKind::TooDeep,
                format!("parentheses and brackets nest deeper than {MAX_NESTING_DEPTH} levels"),
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    // ---- observation level ------------------------------------------------

    fn observation_expressions(&mut self) -> Result<ObservationExpr, ParseError> {
        let first = self.observation_or()?;
        self.chain(
            first,
            TokenKind::FollowedBy,
            Self::observation_or,
            ObservationExpr::FollowedBy,
        )
    }

    fn observation_or(&mut self) -> Result<ObservationExpr, ParseError> {
        let first = self.observation_and()?;
        self.chain(
            first,
            TokenKind::Or,
            Self::observation_and,
            ObservationExpr::Or,
        )
    }

    fn observation_and(&mut self) -> Result<ObservationExpr, ParseError> {
        let first = self.observation_qualified()?;
        self.chain(
            first,
            TokenKind::And,
            Self::observation_qualified,
            ObservationExpr::And,
        )
    }

    /// `first (op next)*` as one n-ary node (or `first` alone).
    fn chain<T>(
        &mut self,
        first: T,
        op: TokenKind,
        next: fn(&mut Self) -> Result<T, ParseError>,
        build: fn(Vec<T>) -> T,
    ) -> Result<T, ParseError> {
        if self.peek().kind != op {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat(op).is_some() {
            items.push(next(self)?);
        }
        Ok(build(items))
    }

    fn observation_qualified(&mut self) -> Result<ObservationExpr, ParseError> {
        let expr = self.observation_primary()?;
        let mut qualifiers = Vec::new();
        while let Some(q) = self.qualifier()? {
            qualifiers.push(q);
        }
        Ok(if qualifiers.is_empty() {
            expr
        } else {
            ObservationExpr::Qualified {
                expr: Box::new(expr),
                qualifiers,
            }
        })
    }

    fn observation_primary(&mut self) -> Result<ObservationExpr, ParseError> {
        if let Some(open) = self.eat(TokenKind::LBrack) {
            self.enter()?;
            let comparison = self.comparison_expression()?;
            let close = self.expect(TokenKind::RBrack, &["AND", "OR", "']'"])?;
            self.leave();
            return Ok(ObservationExpr::Observation {
                comparison,
                span: open.span.to(close.span),
            });
        }
        if let Some(open) = self.eat(TokenKind::LParen) {
            self.enter()?;
            let expr = self.observation_expressions()?;
            let close = self.expect(
                TokenKind::RParen,
                &[
                    "AND",
                    "OR",
                    "FOLLOWEDBY",
                    "WITHIN",
                    "REPEATS",
                    "START",
                    "')'",
                ],
            )?;
            self.leave();
            return Ok(ObservationExpr::Group {
                expr: Box::new(expr),
                span: open.span.to(close.span),
            });
        }
        Err(self.unexpected(&["'['", "'('"]))
    }

    fn qualifier(&mut self) -> Result<Option<Qualifier>, ParseError> {
        let tok = self.peek();
        match tok.kind {
            TokenKind::Within => {
                self.bump();
                let n = self.peek();
                if !matches!(n.kind, TokenKind::IntPos | TokenKind::FloatPos) {
                    return Err(self.unexpected(&["a positive number of seconds"]));
                }
                self.bump();
                // Digits always parse (possibly to infinity, as in Python).
                let seconds = n.text.parse::<f64>().unwrap_or(f64::INFINITY);
                let end = self.expect(TokenKind::Seconds, &["SECONDS"])?;
                Ok(Some(Qualifier::Within {
                    seconds,
                    text: n.text.to_owned(),
                    span: tok.span.to(end.span),
                }))
            }
            TokenKind::Repeats => {
                self.bump();
                let n = self.peek();
                if n.kind != TokenKind::IntPos {
                    return Err(self.unexpected(&["a positive integer"]));
                }
                self.bump();
                // Beyond 64 bits the count cannot be reached: saturate.
                let times = n
                    .text
                    .trim_start_matches('+')
                    .parse::<u64>()
                    .unwrap_or(u64::MAX);
                let end = self.expect(TokenKind::Times, &["TIMES"])?;
                Ok(Some(Qualifier::Repeats {
                    times,
                    span: tok.span.to(end.span),
                }))
            }
            TokenKind::Start => {
                self.bump();
                let start = self.timestamp()?;
                self.expect(TokenKind::Stop, &["STOP"])?;
                let stop_tok = self.peek();
                let stop = self.timestamp()?;
                Ok(Some(Qualifier::StartStop {
                    start,
                    stop,
                    span: tok.span.to(stop_tok.span),
                }))
            }
            _ => Ok(None),
        }
    }

    fn timestamp(&mut self) -> Result<Timestamp, ParseError> {
        let t = self.peek();
        if t.kind != TokenKind::Timestamp {
            return Err(self.unexpected(&["a timestamp literal t'YYYY-MM-DDThh:mm:ssZ'"]));
        }
        self.bump();
        Ok(timestamp_of(t))
    }

    // ---- comparison level -------------------------------------------------

    fn comparison_expression(&mut self) -> Result<ComparisonExpr, ParseError> {
        let first = self.comparison_and()?;
        self.chain(
            first,
            TokenKind::Or,
            Self::comparison_and,
            ComparisonExpr::Or,
        )
    }

    fn comparison_and(&mut self) -> Result<ComparisonExpr, ParseError> {
        let first = self.prop_test()?;
        self.chain(first, TokenKind::And, Self::prop_test, ComparisonExpr::And)
    }

    fn prop_test(&mut self) -> Result<ComparisonExpr, ParseError> {
        let start = self.peek();
        if self.eat(TokenKind::LParen).is_some() {
            self.enter()?;
            let inner = self.comparison_expression()?;
            self.expect(TokenKind::RParen, &["AND", "OR", "')'"])?;
            self.leave();
            return Ok(inner);
        }
        let not_exists = start.kind == TokenKind::Not;
        if start.kind == TokenKind::Exists || not_exists {
            self.bump();
            if not_exists {
                self.expect(TokenKind::Exists, &["EXISTS"])?;
            }
            let path = self.object_path()?;
            let span = start.span.to(path.span);
            return Ok(ComparisonExpr::Comparison(Comparison {
                path,
                negated: not_exists,
                op: CompOp::Exists,
                operand: Operand::None,
                operand_span: Span::new(span.end, span.end),
                span,
            }));
        }
        if !matches!(start.kind, TokenKind::Ident | TokenKind::IdentHyphen) {
            return Err(self.unexpected(&["an object path", "NOT", "EXISTS", "'('"]));
        }
        let path = self.object_path()?;
        let negated = self.eat(TokenKind::Not).is_some();
        let op_tok = self.bump();
        let operand_start = self.peek().span.start;
        let (op, operand) = match op_tok.kind {
            TokenKind::Eq => (CompOp::Eq, Operand::Literal(self.literal(true)?)),
            TokenKind::Neq => (CompOp::Ne, Operand::Literal(self.literal(true)?)),
            TokenKind::Lt => (CompOp::Lt, Operand::Literal(self.literal(false)?)),
            TokenKind::Le => (CompOp::Le, Operand::Literal(self.literal(false)?)),
            TokenKind::Gt => (CompOp::Gt, Operand::Literal(self.literal(false)?)),
            TokenKind::Ge => (CompOp::Ge, Operand::Literal(self.literal(false)?)),
            TokenKind::In => (CompOp::In, Operand::Set(self.set_literal()?)),
            TokenKind::Like => (CompOp::Like, self.string_operand()?),
            TokenKind::Matches => (CompOp::Matches, self.string_operand()?),
            TokenKind::IsSubset => (CompOp::IsSubset, self.string_operand()?),
            TokenKind::IsSuperset => (CompOp::IsSuperset, self.string_operand()?),
            _ => {
                self.pos -= usize::from(op_tok.kind != TokenKind::Eof);
                let mut expected = vec![
                    "=",
                    "!=",
                    "<",
                    "<=",
                    ">",
                    ">=",
                    "IN",
                    "LIKE",
                    "MATCHES",
                    "ISSUBSET",
                    "ISSUPERSET",
                ];
                if !negated {
                    expected.insert(0, "NOT");
                    expected.extend(["'.'", "'['"]);
                }
                return Err(self.unexpected(&expected));
            }
        };
        let end = self.tokens[self.pos.saturating_sub(1)].span;
        Ok(ComparisonExpr::Comparison(Comparison {
            span: path.span.to(end),
            path,
            negated,
            op,
            operand,
            operand_span: Span::new(operand_start, end.end),
        }))
    }

    fn string_operand(&mut self) -> Result<Operand, ParseError> {
        let t = self.peek();
        if t.kind != TokenKind::Str {
            return Err(self.unexpected(&["a string literal"]));
        }
        self.bump();
        Ok(Operand::Literal(Literal::String(unquote(t.text))))
    }

    fn set_literal(&mut self) -> Result<Vec<Literal>, ParseError> {
        self.expect(TokenKind::LParen, &["'('"])?;
        let mut items = Vec::new();
        if self.eat(TokenKind::RParen).is_some() {
            return Ok(items);
        }
        loop {
            items.push(self.literal(true)?);
            if self.eat(TokenKind::RParen).is_some() {
                return Ok(items);
            }
            self.expect(TokenKind::Comma, &["','", "')'"])?;
        }
    }

    /// A literal; booleans only where `allow_bool` (equality and sets).
    fn literal(&mut self, allow_bool: bool) -> Result<Literal, ParseError> {
        let t = self.peek();
        let lit = match t.kind {
            TokenKind::IntPos | TokenKind::IntNeg => {
                let text = t.text.trim_start_matches('+');
                // Integers beyond 128 bits (valid grammar) become floats.
                match text.parse::<i128>() {
                    Ok(n) => Literal::Int(n),
                    Err(_) => Literal::Float(text.parse::<f64>().unwrap_or(f64::INFINITY)),
                }
            }
            // Digits always parse; very long ones to infinity, as in Python.
            TokenKind::FloatPos | TokenKind::FloatNeg => {
                let text = t.text.trim_start_matches('+');
                Literal::Float(text.parse::<f64>().unwrap_or(f64::NAN))
            }
            TokenKind::Str => Literal::String(unquote(t.text)),
            TokenKind::Bool if allow_bool => Literal::Bool(t.text == "true"),
            TokenKind::Binary => Literal::Binary(decode_base64(&t.text[2..t.text.len() - 1])),
            TokenKind::Hex => Literal::Hex(decode_hex(&t.text[2..t.text.len() - 1])),
            TokenKind::Timestamp => Literal::Timestamp(timestamp_of(t)),
            _ => {
                let expected: &[&str] = if allow_bool {
                    &["a literal"]
                } else {
                    &["an orderable literal (number, string, binary, hex or timestamp)"]
                };
                return Err(self.unexpected(expected));
            }
        };
        self.bump();
        Ok(lit)
    }

    fn object_path(&mut self) -> Result<ObjectPath, ParseError> {
        let ty = self.peek();
        if !matches!(ty.kind, TokenKind::Ident | TokenKind::IdentHyphen) {
            return Err(self.unexpected(&["an object type"]));
        }
        self.bump();
        self.expect(TokenKind::Colon, &["':'"])?;
        let mut steps = vec![PathStep::Key(self.property_name()?)];
        loop {
            if self.eat(TokenKind::Dot).is_some() {
                steps.push(PathStep::Key(self.property_name()?));
            } else if self.peek().kind == TokenKind::LBrack {
                self.bump();
                let t = self.bump();
                let step = match t.kind {
                    TokenKind::Asterisk => PathStep::AnyIndex,
                    TokenKind::IntPos | TokenKind::IntNeg => {
                        // Out-of-range indexes select nothing either way.
                        let text = t.text.trim_start_matches('+');
                        let saturated = if text.starts_with('-') {
                            i64::MIN
                        } else {
                            i64::MAX
                        };
                        PathStep::Index(text.parse::<i64>().unwrap_or(saturated))
                    }
                    _ => {
                        self.pos -= usize::from(t.kind != TokenKind::Eof);
                        return Err(self.unexpected(&["a list index", "'*'"]));
                    }
                };
                self.expect(TokenKind::RBrack, &["']'"])?;
                steps.push(step);
            } else {
                break;
            }
        }
        let end = self.tokens[self.pos.saturating_sub(1)].span;
        Ok(ObjectPath {
            object_type: ty.text.to_owned(),
            steps,
            span: ty.span.to(end),
        })
    }

    fn property_name(&mut self) -> Result<String, ParseError> {
        let t = self.peek();
        match t.kind {
            TokenKind::Ident => {
                self.bump();
                Ok(t.text.to_owned())
            }
            TokenKind::Str => {
                self.bump();
                Ok(unquote(t.text))
            }
            _ => Err(self.unexpected(&["a property name"])),
        }
    }
}

/// A token as named in messages.
fn describe(tok: Token<'_>) -> String {
    if tok.kind == TokenKind::Eof {
        return "end of pattern".into();
    }
    let mut text: String = tok.text.chars().take(40).collect();
    if text.len() < tok.text.len() {
        text.push('…');
    }
    format!("'{text}'")
}

/// A hint for common mistakes.
fn hint(tok: Token<'_>, expected: &[&str]) -> Option<&'static str> {
    let wants_name = expected.contains(&"a property name");
    match tok.kind {
        TokenKind::IdentHyphen if wants_name => {
            Some("property names containing '-' must be quoted, e.g. hashes.'SHA-256'")
        }
        TokenKind::Ident
            if tok.text.eq_ignore_ascii_case("and")
                || tok.text.eq_ignore_ascii_case("or")
                || tok.text.eq_ignore_ascii_case("within")
                || tok.text.eq_ignore_ascii_case("followedby")
                || tok.text.eq_ignore_ascii_case("repeats") =>
        {
            Some("keywords are upper case")
        }
        TokenKind::Ident if matches!(tok.text, "t" | "b" | "h") => {
            Some("malformed timestamp, binary or hex literal")
        }
        _ if wants_name && crate::lexer::is_keyword(tok.text) => {
            Some("keywords used as property names must be quoted")
        }
        _ => None,
    }
}

fn timestamp_of(t: Token<'_>) -> Timestamp {
    let text = &t.text[2..t.text.len() - 1];
    // The lexer only produces Timestamp tokens that parse; the fallback
    // (a timestamp naming no instant) keeps this free of panics regardless.
    Timestamp::parse_strict(text).unwrap_or_else(|| Timestamp::without_instant(text))
}

/// Removes the quotes of a string token and resolves `\'` and `\\`.
pub(crate) fn unquote(text: &str) -> String {
    let inner = &text[1..text.len() - 1];
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn decode_hex(s: &str) -> Vec<u8> {
    // The lexer has checked for an even number of hex digits.
    crate::codec::hexdecode(s).unwrap_or_default()
}

/// Decodes standard base64 (the lexer has checked the alphabet and padding).
fn decode_base64(s: &str) -> Vec<u8> {
    crate::codec::b64decode(s).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(src: &str) -> ParseError {
        match parse(src) {
            Ok(p) => panic!("{src} parsed as {p}"),
            Err(e) => e,
        }
    }

    #[test]
    fn precedence_and_nary_chains() {
        let p = parse("[a:b=1] OR [a:b=2] AND [a:b=3] FOLLOWEDBY [a:b=4] OR [a:b=5]").unwrap();
        let ObservationExpr::FollowedBy(items) = &p.expr else {
            panic!("{p:?}")
        };
        assert_eq!(items.len(), 2);
        let ObservationExpr::Or(left) = &items[0] else {
            panic!()
        };
        assert!(matches!(left[1], ObservationExpr::And(_)));
        let p = parse("[a:b=1 OR a:c=2 AND a:d=3]").unwrap();
        assert_eq!(p.to_string(), "[a:b = 1 OR a:c = 2 AND a:d = 3]");
        let p = parse("[(a:b=1 OR a:c=2) AND a:d=3]").unwrap();
        assert_eq!(p.to_string(), "[(a:b = 1 OR a:c = 2) AND a:d = 3]");
    }

    #[test]
    fn qualifiers_chain_on_one_node() {
        let p = parse("[a:b=1] REPEATS 5 TIMES WITHIN 1800 SECONDS").unwrap();
        let ObservationExpr::Qualified { qualifiers, .. } = &p.expr else {
            panic!()
        };
        assert_eq!(qualifiers.len(), 2);
        assert!(matches!(qualifiers[0], Qualifier::Repeats { times: 5, .. }));
    }

    #[test]
    fn paths_literals_and_operators() {
        let p = parse(r"[file:extensions.'windows-pebinary-ext'.sections[*].entropy NOT > 7.0 AND x:y[-1] IN (1, 'a\'b', true, h'ff', b'AQ==', t'2016-01-01T00:00:00Z') AND NOT EXISTS x:z]").unwrap();
        assert_eq!(
            p.to_string(),
            r"[file:extensions.'windows-pebinary-ext'.sections[*].entropy NOT > 7.0 AND x:y[-1] IN (1, 'a\'b', true, h'ff', b'AQ==', t'2016-01-01T00:00:00Z') AND NOT EXISTS x:z]"
        );
    }

    #[test]
    fn errors_name_position_and_expectation() {
        let e = err("[file:size = ]");
        assert_eq!(e.position.column, 14);
        assert!(
            e.message.contains("expected a literal, found ']'"),
            "{}",
            e.message
        );
        let e = err("[file.size = 1280]");
        assert_eq!(e.position.column, 6);
        let e = err("[file:hashes.SHA-256 = 'x']");
        assert!(e.message.contains("must be quoted"), "{}", e.message);
        let e = err("[a:b = 1] WITHIN -5 SECONDS");
        assert!(e.message.contains("positive number"), "{}", e.message);
        let e = err("[a:b = 1] START '2016-06-01T01:30:00Z' STOP '2016-06-01T01:30:00Z'");
        assert!(e.message.contains("timestamp literal"), "{}", e.message);
        assert!(matches!(err("").kind, ParseErrorKind::Empty));
        assert!(matches!(
            err("[a:b = 1] !").kind,
            ParseErrorKind::InvalidCharacter('!')
        ));
        let p = parse("[a:b = 999999999999999999999999999999999999999 OR a:c = 1.5] REPEATS 99999999999999999999 TIMES").unwrap();
        assert_eq!(p.to_string(), "[a:b = 1000000000000000000000000000000000000000.0 OR a:c = 1.5] REPEATS 18446744073709551615 TIMES");
        let e = err("[a:b < true]");
        assert!(e.message.contains("orderable"), "{}", e.message);
    }

    #[test]
    fn limits_are_enforced() {
        let deep = format!(
            "{}[a:b=1]{}",
            "(".repeat(MAX_NESTING_DEPTH + 1),
            ")".repeat(MAX_NESTING_DEPTH + 1)
        );
        assert!(matches!(err(&deep).kind, ParseErrorKind::TooDeep));
        let ok = format!(
            "{}[a:b=1]{}",
            "(".repeat(MAX_NESTING_DEPTH - 1),
            ")".repeat(MAX_NESTING_DEPTH - 1)
        );
        assert!(parse(&ok).is_ok());
        let long = format!("[a:b = '{}']", "x".repeat(MAX_PATTERN_LEN));
        assert!(matches!(err(&long).kind, ParseErrorKind::TooLong { .. }));
        // Long flat chains stay flat (no recursion per operand).
        let chain = vec!["[a:b=1]"; 5000].join(" AND ");
        assert!(parse(&chain).is_ok());
    }
}
