//! The Traffic Light Protocol: TLP 2.0 levels and the STIX marking definitions
//! that carry them.
//!
//! STIX 2.1 publishes four TLP 1.0 marking definitions (section 7.2.1.4 of the
//! specification); the OASIS TLP 2.0 extension
//! (`extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d`) publishes five
//! more. Both sets are recognised by id. TLP 1.0 maps onto TLP 2.0 the way FIRST
//! describes it: WHITE became CLEAR, GREEN, AMBER and RED keep their meaning
//! (TLP 1.0 AMBER already allowed sharing with clients, which is TLP 2.0 AMBER).

use std::fmt;
use std::str::FromStr;

/// A TLP 2.0 level, ordered from least to most restrictive.
///
/// ```
/// use accord_agreements::Tlp;
/// assert!(Tlp::Amber < Tlp::AmberStrict);
/// assert_eq!("amber+strict".parse::<Tlp>().unwrap(), Tlp::AmberStrict);
/// assert_eq!(Tlp::AmberStrict.to_string(), "TLP:AMBER+STRICT");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tlp {
    /// TLP:CLEAR (TLP 1.0 WHITE): no limit on disclosure.
    Clear,
    /// TLP:GREEN: the recipient's community.
    Green,
    /// TLP:AMBER: the recipient's organisation and its clients, need to know.
    Amber,
    /// TLP:AMBER+STRICT: the recipient's organisation only.
    AmberStrict,
    /// TLP:RED: the individual recipients only.
    Red,
}

/// STIX 2.1 TLP 1.0 marking definitions (id, level).
pub const TLP1_MARKINGS: [(&str, Tlp); 4] = [
    (
        "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
        Tlp::Clear,
    ),
    (
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
        Tlp::Green,
    ),
    (
        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
        Tlp::Amber,
    ),
    (
        "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
        Tlp::Red,
    ),
];

/// TLP 2.0 marking definitions published with the OASIS TLP 2.0 extension (id, level).
pub const TLP2_MARKINGS: [(&str, Tlp); 5] = [
    (
        "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        Tlp::Clear,
    ),
    (
        "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        Tlp::Green,
    ),
    (
        "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        Tlp::Amber,
    ),
    (
        "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        Tlp::AmberStrict,
    ),
    (
        "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
        Tlp::Red,
    ),
];

/// The id of the OASIS TLP 2.0 property extension used by the TLP 2.0 markings.
pub const TLP2_EXTENSION_ID: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

impl Tlp {
    /// All levels, least restrictive first.
    pub const ALL: [Tlp; 5] = [
        Tlp::Clear,
        Tlp::Green,
        Tlp::Amber,
        Tlp::AmberStrict,
        Tlp::Red,
    ];

    /// The level of a standard (TLP 1.0 or TLP 2.0) marking definition id.
    ///
    /// ```
    /// use accord_agreements::Tlp;
    /// let white = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9";
    /// assert_eq!(Tlp::from_marking_id(white), Some(Tlp::Clear));
    /// assert_eq!(Tlp::from_marking_id("marking-definition--00000000-0000-4000-8000-000000000000"), None);
    /// ```
    pub fn from_marking_id(id: &str) -> Option<Tlp> {
        TLP1_MARKINGS
            .iter()
            .chain(TLP2_MARKINGS.iter())
            .find(|(known, _)| *known == id)
            .map(|(_, tlp)| *tlp)
    }

    /// The TLP 2.0 marking definition id of this level (what Accord writes).
    pub fn marking_id(self) -> &'static str {
        TLP2_MARKINGS[self as usize].0
    }

    /// The level's short name as used in agreements (`CLEAR`, `AMBER+STRICT`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Tlp::Clear => "CLEAR",
            Tlp::Green => "GREEN",
            Tlp::Amber => "AMBER",
            Tlp::AmberStrict => "AMBER+STRICT",
            Tlp::Red => "RED",
        }
    }

    /// Parses a level from the text of a TLP marking definition's content:
    /// `definition.tlp` (TLP 1.0: `white`, `green`, `amber`, `red`) or the
    /// TLP 2.0 extension's `tlp_2_0` (`clear`, ..., `amber+strict`, `red`).
    pub fn from_definition_text(text: &str) -> Option<Tlp> {
        text.parse().ok()
    }
}

impl fmt::Display for Tlp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TLP:{}", self.name())
    }
}

/// The error of parsing a TLP level name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown TLP level {0:?} (expected CLEAR, GREEN, AMBER, AMBER+STRICT or RED; WHITE is accepted for CLEAR)")]
pub struct UnknownTlp(pub String);

impl FromStr for Tlp {
    type Err = UnknownTlp;

    /// Case-insensitive; accepts an optional `TLP:` prefix and WHITE for CLEAR.
    fn from_str(s: &str) -> Result<Tlp, UnknownTlp> {
        let upper = s.trim().to_ascii_uppercase();
        let bare = upper.strip_prefix("TLP:").unwrap_or(&upper);
        match bare {
            "CLEAR" | "WHITE" => Ok(Tlp::Clear),
            "GREEN" => Ok(Tlp::Green),
            "AMBER" => Ok(Tlp::Amber),
            "AMBER+STRICT" => Ok(Tlp::AmberStrict),
            "RED" => Ok(Tlp::Red),
            _ => Err(UnknownTlp(s.to_owned())),
        }
    }
}

impl serde::Serialize for Tlp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for Tlp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Tlp, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_standard_marking_maps_to_its_level() {
        assert_eq!(Tlp::from_marking_id(TLP1_MARKINGS[3].0), Some(Tlp::Red));
        for (id, level) in TLP2_MARKINGS {
            assert_eq!(Tlp::from_marking_id(id), Some(level));
            assert_eq!(level.marking_id(), id);
        }
    }

    #[test]
    fn names_round_trip() {
        for level in Tlp::ALL {
            assert_eq!(level.name().parse::<Tlp>().unwrap(), level);
            assert_eq!(level.to_string().parse::<Tlp>().unwrap(), level);
        }
        assert!("AMBER STRICT".parse::<Tlp>().is_err());
    }
}
