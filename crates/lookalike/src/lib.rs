//! accord-lookalike: find domain names that imitate protected brands and government
//! portals (typosquats, homoglyphs, bitsquats, TLD swaps, combosquats, brands in
//! subdomains, hyphenation, vowel swaps), fast and with few false alarms.
//!
//! A pure library: brands, allow-lists and popular-domain lists come in as text, names
//! as `&str`, findings go out as values ([`Finding`], serialisable to JSON).
//!
//! # Why not a permutation engine
//! Permutation engines (dnstwist) generate each brand's variants and look names up in
//! that set; they cannot see combosquats (`paypal-login-secure.com`), brands in
//! subdomains (`paypal.com.account-verify.tk`), or homoglyphs outside their tables. Here
//! the brands are compiled into an [`Index`]: a hash map over brand tokens and their
//! one-deletion neighbourhoods (symmetric-delete edit search), a map over UTS #39
//! skeletons, and Aho-Corasick automata over the tokens (raw and skeleton) for brands
//! inside longer labels; tokens of 8+ letters also have their two-deletion
//! neighbourhoods, behind a Bloom filter, for two-edit slips. A name costs a handful of
//! hash probes and one automaton pass, whatever the number of brands.
//!
//! # Precision
//! Legitimate names are never reported: the brands' own registrable domains (and
//! their subdomains), an allow-list, and a bundled list of popular registrable domains
//! (Tranco/Umbrella/Cloudflare/Majestic top lists via the MISP warninglists, CC0) with
//! their subdomains and their labels under other suffixes. Hosting and CDN domains
//! (`*.web.app`, `*.workers.dev`, `*.akamaihd.net`...) are the exception: there the name
//! under the hoster is judged, not the hoster, and the hoster's kind (CDN, account-named
//! sites, site builders) decides what a bare brand name there means. Popular-list
//! evidence also decides TLD swaps: a brand seen holding its label under other suffixes
//! owns its country-code swaps too. Short brand
//! tokens (3–4 letters) fire only between token boundaries with lure words beside them;
//! medium tokens (5–6) need clean boundaries (label edge, hyphen, digit, or a lure word);
//! only long tokens (≥ 7) fire when embedded in other letters.
//!
//! # Layout
//! - [`normalise`]: limits, IDNA, PSL split ([`Normaliser`], [`SuffixList`]).
//! - [`index`]: brands, allow-list, popular list → [`Index`].
//! - [`detector`]: names → findings ([`Detector`]), reusing its buffers.
//! - [`finding`]: [`Finding`], [`Technique`], [`Evidence`].
//! - [`observer`]: [`PhishingObserver`], the detector as an `accord_detect::Observer`
//!   over DNS queries, HTTP hosts and TLS server names; [`PhishingFinding`] and its STIX.
//! - [`input`]: plain domain and URL lists.
//!
//! ```
//! use accord_lookalike::{Detector, Index, IndexBuilder, SuffixList, Technique};
//!
//! let mut b = IndexBuilder::new(SuffixList::Bundled);
//! b.add_brands("# payment\npaypal.com\n")?;
//! let index = b.build();
//! let mut d = Detector::new(&index);
//! let f = d.check("paypal-login-secure.com")?.expect("a combosquat");
//! assert_eq!(f.imitates, "paypal.com");
//! assert_eq!(f.technique, Technique::Combosquat);
//! assert!(d.check("www.paypal.com")?.is_none());
//! # Ok::<(), accord_lookalike::Refusal>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod detector;
mod error;
pub mod finding;
pub mod index;
pub mod input;
pub mod normalise;
pub mod observer;
mod words;

pub use detector::Detector;
pub use error::Refusal;
pub use finding::{Evidence, Finding, Technique};
pub use index::{Index, IndexBuilder};
pub use normalise::{Normalised, Normaliser, SuffixList};
pub use observer::{PhishingFinding, PhishingObserver};
