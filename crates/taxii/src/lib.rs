//! TAXII 2.1 protocol types shared by Accord's server (`accord-server`) and its client
//! (`accord_node::federation`): resources, envelopes, media types, header names and
//! query parameters, so both ends speak the same, typed protocol.
//!
//! A pure library: no I/O, no HTTP stack. Resources serialise as TAXII 2.1 asks
//! (optional members and empty lists left out) and deserialise leniently enough to read
//! other servers (medallion, OpenTAXII): unknown members are ignored.
//!
//! # Layout
//! - [`media`]: the TAXII and STIX media types, `Accept` negotiation, `Content-Type` checks.
//! - [`resources`]: discovery, API root, collections, status, manifest, versions, errors.
//! - [`envelope`]: the envelope of objects, read without parsing each object.
//! - [`query`]: query parameter names and a builder for a client's requests.
//! - [`headers`]: the TAXII (and Accord) response header names.
//! - [`deletions`]: Accord's extension that tells readers of deletions.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod deletions;
pub mod envelope;
pub mod headers;
pub mod media;
pub mod query;
pub mod resources;

pub use deletions::{Deletion, DeletionPage};
pub use envelope::Envelope;
pub use media::{STIX_MEDIA_TYPE, TAXII_MEDIA_TYPE};
pub use resources::{ApiRoot, Collection, Collections, Discovery, ErrorMessage, Status};
