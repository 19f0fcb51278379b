//! Texts many entries share (types, spec versions, providers, series keys), each held
//! once: an entry holds a pointer to it, not a copy.

use std::collections::HashSet;
use std::sync::Arc;

/// A set of shared texts.
#[derive(Debug, Default)]
pub(super) struct Names(HashSet<Arc<str>>);

impl Names {
    /// The shared copy of `text` (made on first use).
    pub(super) fn of(&mut self, text: &str) -> Arc<str> {
        if let Some(known) = self.0.get(text) {
            return known.clone();
        }
        let name: Arc<str> = Arc::from(text);
        self.0.insert(name.clone());
        name
    }
}
