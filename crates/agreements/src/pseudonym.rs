//! Keyed pseudonyms for customer addresses.
//!
//! A customer address becomes an address drawn by HMAC-SHA256 under the
//! agreement's key from a range that is never routed, so the released object
//! stays valid STIX (an `ipv4-addr` still holds an IPv4 address) and a reader can
//! still see that two sightings share an address, but cannot learn which:
//! - IPv4 → `240.0.0.0/4` (RFC 1112 "reserved for future use"; 2^28 values),
//!   never `255.255.255.255`;
//! - IPv6 → `100::/64` (RFC 6666 discard-only prefix; 2^64 values).
//!
//! Same key and address, same pseudonym; a different agreement has a different key
//! and so different pseudonyms, which keeps recipients from joining their data.
//! With 10^6 distinct customer IPv4 addresses about 1,900 pairs collide in 2^28;
//! a collision merges two customers into one pseudonym and reveals nothing.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Shortest key accepted, in bytes (the HMAC-SHA256 block-strength key size).
pub const MIN_KEY_BYTES: usize = 32;

/// Domain-separation prefix of every HMAC input.
const DOMAIN: &[u8] = b"accord-pseudonym-v1\0";

/// The secret of one agreement's pseudonyms. `Debug` never shows the key.
#[derive(Clone)]
pub struct PseudonymKey {
    mac: Hmac<Sha256>,
}

/// Why a key text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The text is not hexadecimal.
    #[error("pseudonym key is not hexadecimal (expected {min} or more bytes as hex digits)", min = MIN_KEY_BYTES)]
    NotHex,
    /// Fewer than [`MIN_KEY_BYTES`] bytes.
    #[error("pseudonym key has {0} bytes; at least {min} are required", min = MIN_KEY_BYTES)]
    TooShort(usize),
}

impl PseudonymKey {
    /// Builds a key from raw bytes (at least [`MIN_KEY_BYTES`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<PseudonymKey, KeyError> {
        if bytes.len() < MIN_KEY_BYTES {
            return Err(KeyError::TooShort(bytes.len()));
        }
        let mac = <Hmac<Sha256> as KeyInit>::new_from_slice(bytes)
            .map_err(|_| KeyError::TooShort(bytes.len()))?;
        Ok(PseudonymKey { mac })
    }

    /// Builds a key from hex text, as kept in a key file or an environment
    /// variable (surrounding whitespace ignored).
    ///
    /// ```
    /// use accord_agreements::PseudonymKey;
    /// let key = PseudonymKey::from_hex(&"ab".repeat(32)).unwrap();
    /// let a = key.pseudonymise("198.51.100.7".parse().unwrap());
    /// assert_eq!(a, key.pseudonymise("198.51.100.7".parse().unwrap()));
    /// assert!(a.to_string().parse::<std::net::Ipv4Addr>().unwrap().octets()[0] >= 240);
    /// assert!(PseudonymKey::from_hex("abcd").is_err());
    /// ```
    pub fn from_hex(text: &str) -> Result<PseudonymKey, KeyError> {
        let bytes = hex::decode(text.trim()).map_err(|_| KeyError::NotHex)?;
        PseudonymKey::from_bytes(&bytes)
    }

    fn digest(&self, tag: u8, addr: &[u8]) -> [u8; 32] {
        let mut mac = self.mac.clone();
        mac.update(DOMAIN);
        mac.update(&[tag]);
        mac.update(addr);
        mac.finalize().into_bytes().into()
    }

    /// The pseudonym of an IPv4 address, in `240.0.0.0/4`.
    pub fn pseudonymise_v4(&self, addr: Ipv4Addr) -> Ipv4Addr {
        let d = self.digest(4, &addr.octets());
        let bits = u32::from_be_bytes([d[0], d[1], d[2], d[3]]) & 0x0FFF_FFFF;
        let value = (0xF000_0000 | bits).min(0xFFFF_FFFE);
        Ipv4Addr::from(value)
    }

    /// The pseudonym of an IPv6 address, in `100::/64`. An IPv4-mapped address
    /// becomes the mapped form of its IPv4 pseudonym, so both spellings of one
    /// address agree.
    pub fn pseudonymise_v6(&self, addr: Ipv6Addr) -> Ipv6Addr {
        if let Some(v4) = addr.to_ipv4_mapped() {
            return self.pseudonymise_v4(v4).to_ipv6_mapped();
        }
        let d = self.digest(6, &addr.octets());
        let mut octets = [0u8; 16];
        octets[0] = 0x01;
        octets[8..].copy_from_slice(&d[..8]);
        Ipv6Addr::from(octets)
    }

    /// The pseudonym of either family.
    pub fn pseudonymise(&self, addr: IpAddr) -> IpAddr {
        match addr {
            IpAddr::V4(a) => IpAddr::V4(self.pseudonymise_v4(a)),
            IpAddr::V6(a) => IpAddr::V6(self.pseudonymise_v6(a)),
        }
    }
}

impl fmt::Debug for PseudonymKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PseudonymKey(<redacted>)")
    }
}

/// The networks pseudonyms are drawn from; customer ranges must not overlap them.
pub fn pseudonym_ranges() -> [ipnet::IpNet; 2] {
    [
        ipnet::IpNet::V4(ipnet::Ipv4Net::new(Ipv4Addr::new(240, 0, 0, 0), 4).unwrap_or_default()),
        ipnet::IpNet::V6(
            ipnet::Ipv6Net::new(Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0), 64).unwrap_or_default(),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_separate_pseudonyms_and_ranges_hold() {
        let a = PseudonymKey::from_bytes(&[1; 32]).unwrap();
        let b = PseudonymKey::from_bytes(&[2; 32]).unwrap();
        let ip: Ipv4Addr = "203.0.113.9".parse().unwrap();
        assert_ne!(a.pseudonymise_v4(ip), b.pseudonymise_v4(ip));
        let [v4, v6] = pseudonym_ranges();
        assert!(v4.contains(&IpAddr::V4(a.pseudonymise_v4(ip))));
        let six: Ipv6Addr = "2001:db8::1".parse().unwrap();
        assert!(v6.contains(&IpAddr::V6(a.pseudonymise_v6(six))));
        assert_eq!(
            a.pseudonymise_v6(ip.to_ipv6_mapped()),
            a.pseudonymise_v4(ip).to_ipv6_mapped()
        );
        assert_eq!(format!("{a:?}"), "PseudonymKey(<redacted>)");
    }
}
