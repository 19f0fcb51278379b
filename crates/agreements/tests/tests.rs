//! Integration tests of accord-agreements (one binary).

mod address_forms;
mod common;
mod documents;
mod gate_rules;
mod leak_props;
mod ledger_tamper;
mod location_scope;
mod merkle;
mod onward;
mod scope_rules;
mod tlp_rules;
mod transparency;
