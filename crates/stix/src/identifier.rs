//! STIX identifiers: `object-type--UUID` (STIX 2.1 section 2.9).

use std::fmt;

/// Why a text is not a STIX identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentifierError {
    /// No `--` separates a type from a UUID.
    #[error("'{0}' is not an identifier of the form object-type--UUID")]
    Shape(String),
    /// The part before `--` is not a valid object type name.
    #[error("'{0}': the type part is not a valid STIX type name (a-z, 0-9, hyphen; 3 to 250 characters)")]
    Type(String),
    /// The part after `--` is not an RFC 4122 UUID (8-4-4-4-12 hex digits, version 1-5, variant 10xx).
    #[error("'{0}': the part after '--' is not an RFC 4122 UUID")]
    Uuid(String),
}

/// A syntactically valid STIX identifier.
///
/// The UUID must be RFC 4122 (version 1 to 5, variant bits `10`), as in the
/// OASIS JSON schema `common/identifier.json`; hex digits of either case are
/// accepted and kept as written.
///
/// ```
/// use accord_stix::Identifier;
/// let id = Identifier::parse("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f")?;
/// assert_eq!(id.object_type(), "indicator");
/// assert_eq!(id.uuid().get_version_num(), 4);
/// assert!(Identifier::parse("indicator--not-a-uuid").is_err());
/// # Ok::<(), accord_stix::IdentifierError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Identifier {
    text: Box<str>,
    split: usize,
}

impl Identifier {
    /// Parses and checks an identifier.
    pub fn parse(s: &str) -> Result<Identifier, IdentifierError> {
        let ty = check(s)?;
        Ok(Identifier {
            text: s.into(),
            split: ty.len(),
        })
    }

    /// The object type named by the identifier.
    pub fn object_type(&self) -> &str {
        &self.text[..self.split]
    }

    /// The UUID part.
    pub fn uuid(&self) -> uuid::Uuid {
        uuid::Uuid::parse_str(&self.text[self.split + 2..]).unwrap_or_default()
    }

    /// The identifier text.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// Checks an identifier without allocating; returns its type part.
///
/// ```
/// assert_eq!(accord_stix::identifier::check("tool--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"), Ok("tool"));
/// ```
pub fn check(s: &str) -> Result<&str, IdentifierError> {
    // The UUID is the last 36 bytes, so the separator sits 38 bytes from the end.
    let split = match s.len().checked_sub(38) {
        Some(at) if s.as_bytes()[at..].starts_with(b"--") => at,
        _ => match s.find("--") {
            Some(at) => at,
            None => return Err(IdentifierError::Shape(s.to_owned())),
        },
    };
    let (ty, uuid) = (&s[..split], &s[split + 2..]);
    // In an identifier the type cannot end with '-' (schema `identifier.json`).
    if !is_type_name(ty) || ty.ends_with('-') {
        return Err(IdentifierError::Type(s.to_owned()));
    }
    if !is_rfc4122_uuid(uuid) {
        return Err(IdentifierError::Uuid(s.to_owned()));
    }
    Ok(ty)
}

/// True when `s` is a valid STIX type name: 3 to 250 characters of `a-z`,
/// `0-9` and `-`, starting with a letter, no empty hyphen-separated part (the
/// OASIS schema pattern `^([a-z][a-z0-9]*)+(-[a-z0-9]+)*\-?$`, which also allows
/// one trailing hyphen).
///
/// ```
/// use accord_stix::identifier::is_type_name;
/// assert!(is_type_name("x-mitre-tactic") && !is_type_name("X-Mitre") && !is_type_name("a--b"));
/// ```
pub fn is_type_name(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 3 || b.len() > 250 || !b[0].is_ascii_lowercase() {
        return false;
    }
    // Branch-free per byte: allowed characters, and no hyphen after a hyphen.
    let (mut ok, mut prev_hyphen) = (true, false);
    for &c in &b[1..] {
        let hyphen = c == b'-';
        ok &= TYPE_CHAR[c as usize] & !(hyphen & prev_hyphen);
        prev_hyphen = hyphen;
    }
    ok
}

/// True when `s` is `8-4-4-4-12` hex digits with version 1-5 and the RFC 4122 variant.
///
/// ```
/// use accord_stix::identifier::is_rfc4122_uuid;
/// assert!(is_rfc4122_uuid("8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"));
/// assert!(!is_rfc4122_uuid("8e2e2d2b-17d4-7cbf-938f-98ee46b3cd3f")); // version 7
/// ```
pub fn is_rfc4122_uuid(s: &str) -> bool {
    let Ok(b) = <&[u8; 36]>::try_from(s.as_bytes()) else {
        return false;
    };
    let hex = |r: &[u8]| r.iter().all(|&c| HEX[c as usize]);
    b[8] == b'-'
        && b[13] == b'-'
        && b[18] == b'-'
        && b[23] == b'-'
        && hex(&b[0..8])
        && hex(&b[9..13])
        && hex(&b[14..18])
        && hex(&b[19..23])
        && hex(&b[24..36])
        && matches!(b[14], b'1'..=b'5')
        && matches!(b[19], b'8' | b'9' | b'a' | b'b' | b'A' | b'B')
}

/// `a-z`, `0-9` and `-`.
static TYPE_CHAR: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-';
        c += 1;
    }
    t
};

static HEX: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = (c as u8).is_ascii_hexdigit();
        c += 1;
    }
    t
};

impl fmt::Display for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}
impl fmt::Debug for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Identifier({})", self.text)
    }
}
impl std::str::FromStr for Identifier {
    type Err = IdentifierError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Identifier::parse(s)
    }
}
impl serde::Serialize for Identifier {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}
impl<'de> serde::Deserialize<'de> for Identifier {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Identifier::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_shape() {
        assert!(Identifier::parse("x-mitre-tactic--69da72d2-f550-41c5-ab9e-e8255707f28a").is_ok());
        assert!(Identifier::parse("ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4").is_ok());
        for bad in [
            "indicator",
            "indicator--",
            "in--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "Indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "indicator--8e2e2d2b-17d4-6cbf-938f-98ee46b3cd3f",
            "indicator--8e2e2d2b-17d4-4cbf-c38f-98ee46b3cd3f",
            "indicator--8e2e2d2b17d4-4cbf-938f-98ee46b3cd3f0",
            "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3g",
            "a--b--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "abc---8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        ] {
            assert!(Identifier::parse(bad).is_err(), "{bad}");
        }
    }
}
