//! sco_ids
