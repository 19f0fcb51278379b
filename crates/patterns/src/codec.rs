//! Base64 and hex decoding with the rules of Python's `binascii`, which the
//! OASIS matcher uses for `b'..'` literals and for `*_bin` / `*_hex`
//! properties of observed objects.

/// Decodes base64 like Python's `base64.standard_b64decode` (non-strict
/// `binascii.a2b_base64`): characters outside the alphabet are skipped, a
/// complete pad sequence ends the input, and a final group of one character
/// or missing padding is an error.
///
/// ```
/// use accord_patterns::codec::b64decode;
/// assert_eq!(b64decode("AQIDBA==").unwrap(), [1, 2, 3, 4]);
/// assert_eq!(b64decode("AQ ID\nBA==").unwrap(), [1, 2, 3, 4]);
/// assert!(b64decode("AQIDB").is_err());
/// ```
pub fn b64decode(s: &str) -> Result<Vec<u8>, &'static str> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let (mut quad_pos, mut left, mut pads) = (0u8, 0u32, 0u8);
    for c in s.bytes() {
        if c == b'=' {
            pads += 1;
            if quad_pos >= 2 && quad_pos + pads >= 4 {
                return Ok(out);
            }
            continue;
        }
        let Some(v) = b64_value(c) else { continue };
        pads = 0;
        match quad_pos {
            0 => {
                left = v;
                quad_pos = 1;
            }
            1 => {
                out.push(((left << 2) | (v >> 4)) as u8);
                left = v & 0x0f;
                quad_pos = 2;
            }
            2 => {
                out.push(((left << 4) | (v >> 2)) as u8);
                left = v & 0x03;
                quad_pos = 3;
            }
            _ => {
                out.push(((left << 6) | v) as u8);
                quad_pos = 0;
            }
        }
    }
    match quad_pos {
        0 => Ok(out),
        1 => Err("invalid base64: the number of data characters is 1 more than a multiple of 4"),
        _ => Err("invalid base64: incorrect padding"),
    }
}

fn b64_value(c: u8) -> Option<u32> {
    let v = match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    };
    Some(u32::from(v))
}

/// Decodes hex like Python's `binascii.a2b_hex`: an even number of hex
/// digits of either case, nothing else.
///
/// ```
/// assert_eq!(accord_patterns::codec::hexdecode("00fF").unwrap(), [0, 255]);
/// assert!(accord_patterns::codec::hexdecode("abc").is_err());
/// ```
pub fn hexdecode(s: &str) -> Result<Vec<u8>, &'static str> {
    let b = s.as_bytes();
    if b.len() % 2 != 0 {
        return Err("invalid hex: odd number of digits");
    }
    let digit = |c: u8| {
        (c as char)
            .to_digit(16)
            .ok_or("invalid hex: non-hexadecimal digit found")
    };
    b.chunks_exact(2)
        .map(|p| Ok(((digit(p[0])? << 4) | digit(p[1])?) as u8))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_follows_binascii() {
        assert_eq!(b64decode("").unwrap(), b"");
        assert_eq!(
            b64decode("dGhpcyBpcyBhIHRlc3Q=").unwrap(),
            b"this is a test"
        );
        assert_eq!(b64decode("AQ==trailing").unwrap(), [1]);
        assert_eq!(b64decode("A=Q==").unwrap(), [1]);
        assert!(b64decode("A").is_err());
        assert!(b64decode("AQI").is_err());
        assert!(b64decode("====").unwrap().is_empty());
    }
}
