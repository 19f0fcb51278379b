//! Why the gate withheld an object version.

use std::fmt;

use crate::agreement::AgreementRef;
use crate::time::UtcMicros;
use crate::tlp::Tlp;

/// The reason an object version is not released to a recipient.
///
/// `code()` is a stable kebab-case name for counting and filtering (preview,
/// metrics); `Display` is the sentence shown to an operator.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WithholdReason {
    /// No agreement exists between the object's provider and the recipient.
    NoAgreement,
    /// The only agreements between the pair start later.
    AgreementNotYetValid {
        /// The agreement.
        agreement: AgreementRef,
        /// When it starts.
        from: UtcMicros,
    },
    /// The agreements between the pair have ended.
    AgreementExpired {
        /// The agreement.
        agreement: AgreementRef,
        /// When it ended.
        until: UtcMicros,
    },
    /// The object's type is not in the agreement's scope.
    TypeOutOfScope {
        /// The STIX type.
        kind: String,
    },
    /// The object carries none of the labels the scope requires.
    LabelOutOfScope,
    /// The object carries a label the scope excludes.
    ExcludedLabel {
        /// The label.
        label: String,
    },
    /// The object's confidence is below the minimum (or absent when required).
    BelowMinConfidence {
        /// The object's confidence, if stated.
        confidence: Option<u8>,
        /// The agreement's minimum.
        min: u8,
    },
    /// The object's TLP is more restrictive than the agreement allows.
    TlpAboveMaximum {
        /// The object's level (the unmarked default when it has no TLP marking).
        tlp: Tlp,
        /// The agreement's maximum.
        max: Tlp,
    },
    /// The object carries a marking the agreement withholds, or one the gate
    /// cannot interpret under `unknown_markings = "withhold"`.
    MarkingWithheld {
        /// The marking definition id.
        id: String,
    },
    /// The object's collection is not in the agreement's scope.
    CollectionOutOfScope,
    /// The agreement scopes by location (`scope.countries`, `scope.asns`) and the
    /// enrichment does not place the object anywhere (fail-closed).
    LocationUnknown,
    /// The object is located, but in none of the scope's countries or ASNs.
    LocationOutOfScope,
    /// The object version is under embargo.
    Embargoed {
        /// When the embargo ends.
        until: UtcMicros,
    },
    /// The object depends on a referenced object that is withheld (a
    /// relationship's endpoint, a sighting's indicator, a report whose every
    /// reference is withheld, ...).
    ReferencesWithheld {
        /// The referenced id.
        id: String,
        /// Why that object is withheld.
        because: Box<WithholdReason>,
    },
    /// The object references an address object that is not in the store, so the
    /// gate cannot tell whether it is a customer address (its id is a UUIDv5 of
    /// the address and could be brute-forced).
    UnresolvedAddressReference {
        /// The referenced id.
        id: String,
    },
    /// A chain of references is longer than [`crate::MAX_REFERENCE_DEPTH`].
    ReferenceChainTooDeep {
        /// The id at which the limit was hit.
        id: String,
    },
    /// The object contains a customer address and the agreement drops such objects.
    CustomerAddressDropped,
    /// The object names a network inside the customer address space, which a
    /// pseudonym cannot replace.
    CustomerNetwork {
        /// The network.
        net: String,
    },
    /// Replacing the customer addresses of a text kept producing new ones (each
    /// replacement joined its neighbours into another customer address reading).
    CustomerAddressNotReplaced,
    /// The object is (or references) an SCO whose id derives from a customer
    /// address, and the id it would be released under cannot be computed: the
    /// store gave no text for it, a cycle of references depends on its changing id,
    /// or its ID contributing properties do not survive the transformation.
    ScoIdNotRecomputable {
        /// The SCO's id.
        id: String,
    },
    /// The retention cap would end an indicator before its `valid_from`.
    RetentionBeforeValidFrom,
    /// The stored text could not be transformed (not a JSON object).
    MalformedObject {
        /// What went wrong.
        message: String,
    },
    /// The object is the obligations marking of an agreement with another recipient.
    OtherRecipientsMarking,
    /// A `redact_patterns` pattern matches where a change would break the object
    /// (its id, type, timestamps, a reference, an SCO's ID contributing property, or
    /// the name of a required member).
    RedactionBreaksObject {
        /// The property (a dotted path from the top of the object).
        property: String,
    },
    /// The object's provider is not party to an agreement with the recipient, and the
    /// node holds the object only as the recipient of the provider's agreement with
    /// the node's organisation (the holder), which forbids sharing it onward (or is
    /// not in force).
    OnwardSharingForbidden {
        /// The agreement the holder received the object under.
        agreement: AgreementRef,
    },
}

impl WithholdReason {
    /// A stable kebab-case code.
    pub fn code(&self) -> &'static str {
        match self {
            WithholdReason::NoAgreement => "no-agreement",
            WithholdReason::AgreementNotYetValid { .. } => "agreement-not-yet-valid",
            WithholdReason::AgreementExpired { .. } => "agreement-expired",
            WithholdReason::TypeOutOfScope { .. } => "type-out-of-scope",
            WithholdReason::LabelOutOfScope => "label-out-of-scope",
            WithholdReason::ExcludedLabel { .. } => "excluded-label",
            WithholdReason::BelowMinConfidence { .. } => "below-min-confidence",
            WithholdReason::TlpAboveMaximum { .. } => "tlp-above-maximum",
            WithholdReason::MarkingWithheld { .. } => "marking-withheld",
            WithholdReason::CollectionOutOfScope => "collection-out-of-scope",
            WithholdReason::LocationUnknown => "location-unknown",
            WithholdReason::LocationOutOfScope => "location-out-of-scope",
            WithholdReason::Embargoed { .. } => "embargoed",
            WithholdReason::ReferencesWithheld { .. } => "references-withheld",
            WithholdReason::UnresolvedAddressReference { .. } => "unresolved-address-reference",
            WithholdReason::ReferenceChainTooDeep { .. } => "reference-chain-too-deep",
            WithholdReason::CustomerAddressDropped => "customer-address-dropped",
            WithholdReason::CustomerNetwork { .. } => "customer-network",
            WithholdReason::CustomerAddressNotReplaced => "customer-address-not-replaced",
            WithholdReason::ScoIdNotRecomputable { .. } => "sco-id-not-recomputable",
            WithholdReason::RetentionBeforeValidFrom => "retention-before-valid-from",
            WithholdReason::MalformedObject { .. } => "malformed-object",
            WithholdReason::OtherRecipientsMarking => "other-recipients-marking",
            WithholdReason::OnwardSharingForbidden { .. } => "onward-sharing-forbidden",
            WithholdReason::RedactionBreaksObject { .. } => "redaction-breaks-object",
        }
    }
}

impl fmt::Display for WithholdReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WithholdReason::NoAgreement => f.write_str("no agreement with the provider"),
            WithholdReason::AgreementNotYetValid { agreement, from } => {
                write!(f, "agreement {agreement} is not valid until {from}")
            }
            WithholdReason::AgreementExpired { agreement, until } => {
                write!(f, "agreement {agreement} expired at {until}")
            }
            WithholdReason::TypeOutOfScope { kind } => {
                write!(f, "type {kind} is outside the agreement's scope")
            }
            WithholdReason::LabelOutOfScope => {
                f.write_str("the object carries none of the labels in scope")
            }
            WithholdReason::ExcludedLabel { label } => {
                write!(f, "label {label:?} is excluded by the agreement")
            }
            WithholdReason::BelowMinConfidence {
                confidence: Some(c),
                min,
            } => {
                write!(f, "confidence {c} is below the agreement's minimum {min}")
            }
            WithholdReason::BelowMinConfidence {
                confidence: None,
                min,
            } => {
                write!(
                    f,
                    "no confidence stated; the agreement requires at least {min}"
                )
            }
            WithholdReason::TlpAboveMaximum { tlp, max } => {
                write!(f, "{tlp} is above the agreement's maximum {max}")
            }
            WithholdReason::MarkingWithheld { id } => {
                write!(f, "marking {id} is withheld by the agreement")
            }
            WithholdReason::CollectionOutOfScope => {
                f.write_str("the collection is outside the agreement's scope")
            }
            WithholdReason::LocationUnknown => f.write_str(
                "the agreement scopes by country or ASN and the object's location is unknown",
            ),
            WithholdReason::LocationOutOfScope => {
                f.write_str("the object is located outside the agreement's countries and ASNs")
            }
            WithholdReason::Embargoed { until } => write!(f, "embargoed until {until}"),
            WithholdReason::ReferencesWithheld { id, because } => {
                write!(f, "references {id}, which is withheld ({because})")
            }
            WithholdReason::UnresolvedAddressReference { id } => {
                write!(
                    f,
                    "references address object {id}, which is not in the store"
                )
            }
            WithholdReason::ReferenceChainTooDeep { id } => {
                write!(
                    f,
                    "reference chain too deep at {id} (limit {})",
                    crate::MAX_REFERENCE_DEPTH
                )
            }
            WithholdReason::CustomerAddressDropped => {
                f.write_str("contains a customer address (policy: drop)")
            }
            WithholdReason::CustomerNetwork { net } => write!(f, "names customer network {net}"),
            WithholdReason::ScoIdNotRecomputable { id } => write!(
                f,
                "the id of {id} derives from a customer address and cannot be recomputed"
            ),
            WithholdReason::CustomerAddressNotReplaced => {
                f.write_str("a customer address could not be replaced by its pseudonym")
            }
            WithholdReason::RetentionBeforeValidFrom => {
                f.write_str("the retention period ends before the indicator's valid_from")
            }
            WithholdReason::MalformedObject { message } => {
                write!(f, "stored object cannot be transformed: {message}")
            }
            WithholdReason::OtherRecipientsMarking => {
                f.write_str("obligations marking of another recipient's agreement")
            }
            WithholdReason::OnwardSharingForbidden { agreement } => write!(
                f,
                "received under agreement {agreement}, which does not permit sharing onward"
            ),
            WithholdReason::RedactionBreaksObject { property } => write!(
                f,
                "a redact pattern matches {property}, which cannot change without breaking the object"
            ),
        }
    }
}
