//! The lexer: pattern text to tokens, with the rules of the OASIS grammar.
//!
//! Like the ANTLR lexer generated from `STIXPattern.g4`, it takes the longest
//! match at each position and, on a tie, the rule listed first in the
//! grammar. Consequences worth knowing:
//! - keywords are upper case and case-sensitive (`and` is an identifier);
//!   `true`/`false` are lower case;
//! - a literal with a prefix (`t'..'`, `b'..'`, `h'..'`) that is malformed is
//!   not an error of its own: it lexes as the identifier `t`/`b`/`h` followed
//!   by a string, and the parser then reports the unexpected identifier;
//! - identifiers may contain `-` (`network-traffic`), which the parser allows
//!   for object types only;
//! - whitespace (including the Unicode spaces the grammar lists) and
//!   `/* */` and `//` comments are skipped.

use crate::error::Span;

/// The kinds of token, named after the grammar's token rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// `-` followed by digits.
    IntNeg,
    /// Optional `+` followed by digits.
    IntPos,
    /// Negative decimal number.
    FloatNeg,
    /// Decimal number, optional `+`.
    FloatPos,
    /// `h'..'`.
    Hex,
    /// `b'..'`.
    Binary,
    /// `'..'`.
    Str,
    /// `true` / `false`.
    Bool,
    /// `t'..'`.
    Timestamp,
    /// `AND`.
    And,
    /// `OR`.
    Or,
    /// `NOT`.
    Not,
    /// `FOLLOWEDBY`.
    FollowedBy,
    /// `LIKE`.
    Like,
    /// `MATCHES`.
    Matches,
    /// `ISSUPERSET`.
    IsSuperset,
    /// `ISSUBSET`.
    IsSubset,
    /// `EXISTS`.
    Exists,
    /// `LAST` (reserved, no rule uses it).
    Last,
    /// `IN`.
    In,
    /// `START`.
    Start,
    /// `STOP`.
    Stop,
    /// `SECONDS`.
    Seconds,
    /// `WITHIN`.
    Within,
    /// `REPEATS`.
    Repeats,
    /// `TIMES`.
    Times,
    /// Identifier without `-`.
    Ident,
    /// Identifier containing `-`.
    IdentHyphen,
    /// `=` or `==`.
    Eq,
    /// `!=` or `<>`.
    Neq,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// A lone `'`.
    Quote,
    /// `:`.
    Colon,
    /// `.`.
    Dot,
    /// `,`.
    Comma,
    /// `)`.
    RParen,
    /// `(`.
    LParen,
    /// `]`.
    RBrack,
    /// `[`.
    LBrack,
    /// `+`.
    Plus,
    /// `-`.
    Minus,
    /// `^`.
    Power,
    /// `/`.
    Divide,
    /// `*`.
    Asterisk,
    /// Any other character.
    Invalid,
    /// End of input.
    Eof,
}

/// A token: its kind and where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    /// The kind of token.
    pub kind: TokenKind,
    /// The exact text of the token.
    pub text: &'a str,
    /// Its byte range.
    pub span: Span,
}

const KEYWORDS: &[(&str, TokenKind)] = &[
    ("AND", TokenKind::And),
    ("OR", TokenKind::Or),
    ("NOT", TokenKind::Not),
    ("FOLLOWEDBY", TokenKind::FollowedBy),
    ("LIKE", TokenKind::Like),
    ("MATCHES", TokenKind::Matches),
    ("ISSUPERSET", TokenKind::IsSuperset),
    ("ISSUBSET", TokenKind::IsSubset),
    ("EXISTS", TokenKind::Exists),
    ("LAST", TokenKind::Last),
    ("IN", TokenKind::In),
    ("START", TokenKind::Start),
    ("STOP", TokenKind::Stop),
    ("SECONDS", TokenKind::Seconds),
    ("WITHIN", TokenKind::Within),
    ("REPEATS", TokenKind::Repeats),
    ("TIMES", TokenKind::Times),
];

/// Whether `word` is a keyword of the grammar (upper-case keywords and the
/// boolean literals), i.e. cannot be written as an unquoted property name.
pub fn is_keyword(word: &str) -> bool {
    word == "true" || word == "false" || KEYWORDS.iter().any(|(k, _)| *k == word)
}

/// Whitespace characters skipped by the grammar's `WS` rule.
fn is_ws(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t'
            | '\r'
            | '\n'
            | '\u{0B}'
            | '\u{0C}'
            | '\u{85}'
            | '\u{A0}'
            | '\u{1680}'
            | '\u{2000}'
            ..='\u{200A}' | '\u{2028}' | '\u{2029}' | '\u{202F}' | '\u{205F}' | '\u{3000}'
    )
}

/// Splits `src` into tokens, ending with one [`TokenKind::Eof`] token.
///
/// Never fails: characters that start no token become
/// [`TokenKind::Invalid`] tokens, which the parser reports.
///
/// ```
/// use accord_patterns::lexer::{tokenize, TokenKind};
/// let kinds: Vec<_> = tokenize("[a:b >= -5]").iter().map(|t| t.kind).collect();
/// assert_eq!(kinds, [TokenKind::LBrack, TokenKind::Ident, TokenKind::Colon,
///     TokenKind::Ident, TokenKind::Ge, TokenKind::IntNeg, TokenKind::RBrack, TokenKind::Eof]);
/// ```
pub fn tokenize(src: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    let mut pos = 0;
    loop {
        pos = skip_trivia(src, pos);
        if pos >= src.len() {
            tokens.push(Token {
                kind: TokenKind::Eof,
                text: "",
                span: Span::new(src.len(), src.len()),
            });
            return tokens;
        }
        let (kind, len) = next_token(&src.as_bytes()[pos..], src[pos..].chars().next());
        tokens.push(Token {
            kind,
            text: &src[pos..pos + len],
            span: Span::new(pos, pos + len),
        });
        pos += len;
    }
}

/// Skips whitespace and comments from `pos`.
fn skip_trivia(src: &str, mut pos: usize) -> usize {
    let b = src.as_bytes();
    loop {
        let rest = &src[pos..];
        if let Some(c) = rest.chars().next().filter(|c| is_ws(*c)) {
            pos += c.len_utf8();
        } else if let Some(body) = rest.strip_prefix("/*") {
            match body.find("*/") {
                Some(end) => pos += 2 + end + 2,
                // Unterminated: not a comment; `/` and `*` become tokens.
                None => return pos,
            }
        } else if rest.starts_with("//") {
            pos += rest.find(['\r', '\n']).unwrap_or(rest.len());
        } else {
            debug_assert!(pos <= b.len());
            return pos;
        }
    }
}

/// The longest token at the start of `b` (ties go to the earlier rule).
fn next_token(b: &[u8], first_char: Option<char>) -> (TokenKind, usize) {
    // Candidates in grammar rule order; the first of the longest wins.
    let mut best = (TokenKind::Invalid, first_char.map_or(1, char::len_utf8));
    let mut best_len = 0;
    let mut offer = |kind: TokenKind, len: Option<usize>| {
        if let Some(len) = len {
            if len > best_len {
                best = (kind, len);
                best_len = len;
            }
        }
    };
    offer(
        TokenKind::IntNeg,
        b.strip_prefix(b"-").and_then(int_digits).map(|n| n + 1),
    );
    offer(TokenKind::IntPos, int_pos(b));
    offer(
        TokenKind::FloatNeg,
        b.strip_prefix(b"-").and_then(float_body).map(|n| n + 1),
    );
    offer(TokenKind::FloatPos, float_pos(b));
    offer(TokenKind::Hex, hex_lit(b));
    offer(TokenKind::Binary, binary_lit(b));
    offer(TokenKind::Str, string_lit(b));
    offer(TokenKind::Bool, bool_lit(b));
    offer(TokenKind::Timestamp, timestamp_lit(b));
    for (word, kind) in KEYWORDS {
        offer(*kind, b.starts_with(word.as_bytes()).then_some(word.len()));
    }
    let ident_len = ident(b, false);
    offer(TokenKind::Ident, ident_len);
    offer(TokenKind::IdentHyphen, ident(b, true));
    let two = b.get(..2);
    offer(
        TokenKind::Eq,
        match b.first() {
            Some(b'=') if two == Some(b"==") => Some(2),
            Some(b'=') => Some(1),
            _ => None,
        },
    );
    offer(
        TokenKind::Neq,
        (two == Some(b"!=") || two == Some(b"<>")).then_some(2),
    );
    offer(TokenKind::Lt, (b.first() == Some(&b'<')).then_some(1));
    offer(TokenKind::Le, (two == Some(b"<=")).then_some(2));
    offer(TokenKind::Gt, (b.first() == Some(&b'>')).then_some(1));
    offer(TokenKind::Ge, (two == Some(b">=")).then_some(2));
    let single = match b.first() {
        Some(b'\'') => Some(TokenKind::Quote),
        Some(b':') => Some(TokenKind::Colon),
        Some(b'.') => Some(TokenKind::Dot),
        Some(b',') => Some(TokenKind::Comma),
        Some(b')') => Some(TokenKind::RParen),
        Some(b'(') => Some(TokenKind::LParen),
        Some(b']') => Some(TokenKind::RBrack),
        Some(b'[') => Some(TokenKind::LBrack),
        Some(b'+') => Some(TokenKind::Plus),
        Some(b'-') => Some(TokenKind::Minus),
        Some(b'^') => Some(TokenKind::Power),
        Some(b'/') => Some(TokenKind::Divide),
        Some(b'*') => Some(TokenKind::Asterisk),
        _ => None,
    };
    if let Some(kind) = single {
        offer(kind, Some(1));
    }
    best
}

/// `'0' | [1-9][0-9]*`
fn int_digits(b: &[u8]) -> Option<usize> {
    match b.first()? {
        b'0' => Some(1),
        b'1'..=b'9' => Some(1 + b[1..].iter().take_while(|c| c.is_ascii_digit()).count()),
        _ => None,
    }
}

fn int_pos(b: &[u8]) -> Option<usize> {
    match b.strip_prefix(b"+") {
        Some(rest) => int_digits(rest).map(|n| n + 1),
        None => int_digits(b),
    }
}

/// `[0-9]* '.' [0-9]+`
fn float_body(b: &[u8]) -> Option<usize> {
    let int = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if b.get(int) != Some(&b'.') {
        return None;
    }
    let frac = b[int + 1..]
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count();
    (frac > 0).then_some(int + 1 + frac)
}

fn float_pos(b: &[u8]) -> Option<usize> {
    match b.strip_prefix(b"+") {
        Some(rest) => float_body(rest).map(|n| n + 1),
        None => float_body(b),
    }
}

/// `'h' QUOTE (HexDigit HexDigit)* QUOTE`
fn hex_lit(b: &[u8]) -> Option<usize> {
    let body = b.strip_prefix(b"h'")?;
    let n = body.iter().take_while(|c| c.is_ascii_hexdigit()).count();
    (n % 2 == 0 && body.get(n) == Some(&b'\'')).then_some(n + 3)
}

fn is_b64(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'+' || c == b'/'
}

/// `'b' QUOTE (4 chars)* (4 chars | 3 chars '=' | 2 chars '==') QUOTE`
fn binary_lit(b: &[u8]) -> Option<usize> {
    let body = b.strip_prefix(b"b'")?;
    let n = body.iter().take_while(|c| is_b64(**c)).count();
    let pad = body[n..].iter().take_while(|c| **c == b'=').count().min(2);
    let ok = n > 0
        && match pad {
            0 => n % 4 == 0,
            1 => n % 4 == 3,
            _ => n % 4 == 2,
        };
    (ok && body.get(n + pad) == Some(&b'\'')).then_some(n + pad + 3)
}

/// `QUOTE ( ~['\\] | '\\\'' | '\\\\' )* QUOTE`
fn string_lit(b: &[u8]) -> Option<usize> {
    if b.first() != Some(&b'\'') {
        return None;
    }
    let mut i = 1;
    loop {
        match *b.get(i)? {
            b'\'' => return Some(i + 1),
            b'\\' => match b.get(i + 1)? {
                b'\'' | b'\\' => i += 2,
                _ => return None,
            },
            _ => i += 1,
        }
    }
}

fn bool_lit(b: &[u8]) -> Option<usize> {
    if b.starts_with(b"true") {
        Some(4)
    } else if b.starts_with(b"false") {
        Some(5)
    } else {
        None
    }
}

/// `t'YYYY-MM-DDTHH:MM:SS[.d+]Z'` with the grammar's digit ranges.
fn timestamp_lit(b: &[u8]) -> Option<usize> {
    let body = b.strip_prefix(b"t'")?;
    let end = body.iter().position(|c| *c == b'\'')?;
    let text = std::str::from_utf8(&body[..end]).ok()?;
    crate::timestamp::Timestamp::parse_strict(text).map(|_| end + 3)
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`, or with `-` allowed after the first character.
fn ident(b: &[u8], hyphen: bool) -> Option<usize> {
    let first = b.first()?;
    if !(first.is_ascii_alphabetic() || *first == b'_') {
        return None;
    }
    let rest = b[1..]
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_' || (hyphen && **c == b'-'))
        .count();
    Some(1 + rest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use TokenKind::*;

    fn kinds(s: &str) -> Vec<TokenKind> {
        tokenize(s).iter().map(|t| t.kind).collect()
    }

    #[test]
    fn numbers_follow_longest_match() {
        assert_eq!(kinds("0123"), [IntPos, IntPos, Eof]);
        assert_eq!(kinds("0123.5"), [FloatPos, Eof]);
        assert_eq!(kinds("1."), [IntPos, Dot, Eof]);
        assert_eq!(kinds("-.5 +5 -"), [FloatNeg, IntPos, Minus, Eof]);
    }

    #[test]
    fn prefixed_literals_fall_back_to_identifiers() {
        assert_eq!(kinds("b''"), [Ident, Str, Eof]);
        assert_eq!(kinds("b'AQIDBA=='"), [Binary, Eof]);
        assert_eq!(kinds("b'===='"), [Ident, Str, Eof]);
        assert_eq!(kinds("h''"), [Hex, Eof]);
        assert_eq!(kinds("h'a'"), [Ident, Str, Eof]);
        assert_eq!(kinds("t'2457-73-22T32:81:84.1Z'"), [Ident, Str, Eof]);
        assert_eq!(kinds("t'2016-02-30T00:00:60Z'"), [Timestamp, Eof]);
    }

    #[test]
    fn keywords_and_identifiers() {
        assert_eq!(
            kinds("AND ANDY and true trueish TRUE"),
            [And, Ident, Ident, Bool, Ident, Ident, Eof]
        );
        assert_eq!(kinds("network-traffic a_b"), [IdentHyphen, Ident, Eof]);
    }

    #[test]
    fn operators_and_trivia() {
        assert_eq!(
            kinds("= == != <> < <= > >="),
            [Eq, Eq, Neq, Neq, Lt, Le, Gt, Ge, Eof]
        );
        assert_eq!(kinds("/* x */ [ // y\n ]\u{3000}"), [LBrack, RBrack, Eof]);
        assert_eq!(kinds("/* open"), [Divide, Asterisk, Ident, Eof]);
        assert_eq!(kinds("!"), [Invalid, Eof]);
        assert_eq!(kinds("é"), [Invalid, Eof]);
    }

    #[test]
    fn strings_allow_only_two_escapes() {
        assert_eq!(kinds(r"'it\'s \\ ok'"), [Str, Eof]);
        assert_eq!(kinds(r"'\n'"), [Quote, Invalid, Ident, Quote, Eof]);
    }
}
