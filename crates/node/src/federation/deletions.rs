//! Deletions across peers, both ways.
//!
//! - **Pull**: an Accord peer serves the deletions this node may learn of (Accord's
//!   extension `…/collections/{id}/x-accord-deletions/`, [`accord_taxii::deletions`]):
//!   versions of objects it released to this node and then removed. Each is applied
//!   to the local collection, to the versions **the peer's organisation provided**
//!   only (a peer cannot delete what another provider gave this node, nor this node's
//!   own objects), which leaves a tombstone here in turn: the deletion travels onward
//!   to whoever this node released the object to. A peer without the resource (404:
//!   medallion, any other TAXII 2.1 server) has no way to tell of deletions; the run
//!   goes on and `PeerState::deletion_feed` says so.
//! - **Push**: a tombstone of the local collection whose version this node released
//!   to the peer's organisation (the ledger says so: the door's
//!   [`crate::egress::Egress::deletions`]) becomes a standard TAXII `DELETE
//!   …/objects/{id}/?match[version]=V` at the peer; never for the peer's own objects.
//!   A 404 (already gone there) counts as done.
//!
//! Deletions run before objects in each direction: an object deleted and then added
//! again is deleted and then added again at the peer, not the other way round.

use accord_stix::Timestamp;
use accord_store::VersionFilter;
use accord_taxii::{deletions::DELETIONS_SEGMENT, query::Query, DeletionPage};

use super::{
    error_title, read_taxii, Federation, FederationError, Peer, PeerState, RunReport,
    MAX_PAGES_PER_RUN, MAX_PAGE_OBJECTS, PAGE_LIMIT, PUSH_BATCH,
};
use crate::egress::Recipient;

/// Longest object id accepted in a deletion (as the server accepts in a path).
const MAX_ID_LEN: usize = 300;

impl Peer {
    fn deletions_url(&self) -> String {
        format!(
            "{}/collections/{}/{DELETIONS_SEGMENT}/",
            self.url.trim_end_matches('/'),
            accord_taxii::query::encode(&self.collection)
        )
    }
}

impl Federation {
    /// Read the peer's deletions since the persisted cursor and apply them.
    pub(super) fn pull_deletions(
        &self,
        peer: &Peer,
        state: &mut PeerState,
        report: &mut RunReport,
    ) -> Result<(), FederationError> {
        for _ in 0..MAX_PAGES_PER_RUN {
            let query = Query {
                added_after: state.deletions_after.clone(),
                limit: Some(PAGE_LIMIT),
                ..Query::default()
            };
            let url = format!("{}?{}", peer.deletions_url(), query.to_query_string());
            let client = self.client_for(peer)?;
            let response = self.request(peer, || client.get(&url))?;
            let status = response.status();
            if status == reqwest::StatusCode::NOT_FOUND {
                // Not an Accord node (or the resource is gone): no deletions to learn.
                state.deletion_feed = Some(false);
                return Ok(());
            }
            let body = read_taxii(peer, response)?;
            if !status.is_success() {
                return Err(Self::fail(
                    peer,
                    format!(
                        "HTTP {} reading deletions: {}",
                        status.as_u16(),
                        error_title(&body)
                    ),
                ));
            }
            let page: DeletionPage = serde_json::from_slice(&body)
                .map_err(|e| Self::fail(peer, format!("the deletions page does not read: {e}")))?;
            if page.deletions.len() > MAX_PAGE_OBJECTS {
                return Err(Self::fail(
                    peer,
                    format!(
                        "a page of {} deletions; at most {MAX_PAGE_OBJECTS} are accepted",
                        page.deletions.len()
                    ),
                ));
            }
            state.deletion_feed = Some(true);
            let mut cursor = state
                .deletions_after
                .as_deref()
                .and_then(|t| Timestamp::parse(t).ok())
                .map(|t| t.as_micros());
            for deletion in &page.deletions {
                let at = Timestamp::parse(&deletion.date_deleted)
                    .map_err(|e| Self::fail(peer, format!("a deletion's date_deleted: {e}")))?;
                if cursor.is_some_and(|c| at.as_micros() <= c) {
                    return Err(Self::fail(
                        peer,
                        "a deletion not after added_after (deletions must come oldest first)",
                    ));
                }
                let removed = self.apply_deletion(peer, deletion)?;
                report.deleted += removed;
                state.deletions_in += removed;
                cursor = Some(at.as_micros());
                state.deletions_after = Some(at.as_str().to_string());
            }
            self.save(peer, state)?;
            if !page.more {
                return Ok(());
            }
            if page.deletions.is_empty() {
                return Err(Self::fail(
                    peer,
                    "deletions: more=true with none listed, no way to continue",
                ));
            }
        }
        Err(Self::fail(
            peer,
            format!(
                "more than {MAX_PAGES_PER_RUN} pages of deletions in one run; continuing next run"
            ),
        ))
    }

    /// Remove the versions a deletion names from the local collection, those the
    /// peer's organisation provided only. A malformed entry is skipped (logged).
    fn apply_deletion(
        &self,
        peer: &Peer,
        deletion: &accord_taxii::Deletion,
    ) -> Result<u64, FederationError> {
        if deletion.id.is_empty() || deletion.id.len() > MAX_ID_LEN {
            tracing::warn!(target: "accord::federation", peer = %peer.name, "a deletion without a usable id skipped");
            return Ok(0);
        }
        let versions = match &deletion.version {
            Some(v) => match Timestamp::parse(v) {
                Ok(t) => VersionFilter {
                    exact: vec![t.as_micros()],
                    ..VersionFilter::default()
                },
                Err(e) => {
                    tracing::warn!(target: "accord::federation", peer = %peer.name, id = %deletion.id, error = %e, "a deletion with an unreadable version skipped");
                    return Ok(0);
                }
            },
            None => VersionFilter::all(),
        };
        Ok(self.store.remove_from_collection(
            &peer.local_collection,
            &deletion.id,
            &versions,
            Some(&peer.organisation),
        )?)
    }

    /// Send the peer a TAXII `DELETE` for every version this node released to it and
    /// has deleted since the push cursor.
    pub(super) fn push_deletions(
        &self,
        peer: &Peer,
        state: &mut PeerState,
        report: &mut RunReport,
    ) -> Result<(), FederationError> {
        let recipient = Recipient::new(peer.organisation.clone());
        for _ in 0..MAX_PAGES_PER_RUN {
            let page = self
                .egress
                .deletions(
                    &recipient,
                    &peer.local_collection,
                    state.push_deletions_after,
                    PUSH_BATCH,
                )
                .map_err(|e| Self::fail(peer, format!("reading the deletions to send: {e}")))?;
            for deletion in &page.deletions {
                // The peer's own object: its deletion here is this node's business.
                if deletion.provider != peer.organisation {
                    let mut url = format!(
                        "{}{}/",
                        peer.collection_url(),
                        accord_taxii::query::encode(&deletion.id)
                    );
                    if let Some(v) = &deletion.version {
                        url.push_str("?match%5Bversion%5D=");
                        url.push_str(&accord_taxii::query::encode(v));
                    }
                    let client = self.client_for(peer)?;
                    let response = self.request(peer, || client.delete(&url))?;
                    let status = response.status();
                    if status.is_success() {
                        report.deletions_pushed += 1;
                        state.deletions_out += 1;
                    } else if status != reqwest::StatusCode::NOT_FOUND {
                        let body = read_taxii(peer, response)?;
                        return Err(Self::fail(
                            peer,
                            format!(
                                "HTTP {} to a delete of {}: {}",
                                status.as_u16(),
                                deletion.id,
                                error_title(&body)
                            ),
                        ));
                    }
                }
                state.push_deletions_after = deletion.deleted;
                self.save(peer, state)?;
            }
            if !page.more {
                return Ok(());
            }
        }
        Ok(())
    }
}
