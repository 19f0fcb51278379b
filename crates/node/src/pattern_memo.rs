//! The last STIX pattern checked on this thread, kept for the next reader of the same
//! text.
//!
//! Ingest reads every indicator's pattern twice in a row on one thread: the validator
//! checks it (`ingest::check_pattern`, rule `pattern-syntax`), then the analytics
//! extract the values it compares ([`crate::analytics::extract`]). Parsing is the
//! larger part of both; measured (BENCHMARKS.md, "Correlation and trends"), the
//! second parse was about a tenth of what the analytics added to ingest's CPU. The
//! memo is keyed by the whole text, so a reader can only get the check of exactly the
//! text it asks about (a pure function of it), whatever ran on the thread before.

use std::cell::RefCell;
use std::rc::Rc;

use accord_patterns::Check;

thread_local! {
    static LAST: RefCell<Option<(String, Rc<Check>)>> = const { RefCell::new(None) };
}

/// [`accord_patterns::check`] of `pattern`, from the memo when it is the text last
/// checked on this thread.
pub(crate) fn check(pattern: &str) -> Rc<Check> {
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if let Some((text, check)) = last.as_ref() {
            if text == pattern {
                return Rc::clone(check);
            }
        }
        let check = Rc::new(accord_patterns::check(pattern));
        match last.as_mut() {
            // The memo's text buffer is reused: no allocation per pattern once it
            // has grown to the longest one.
            Some((text, kept)) => {
                text.clear();
                text.push_str(pattern);
                *kept = Rc::clone(&check);
            }
            None => *last = Some((pattern.to_string(), Rc::clone(&check))),
        }
        check
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_memo_answers_only_for_the_same_text() {
        let a = check("[ipv4-addr:value = '198.51.100.1']");
        let again = check("[ipv4-addr:value = '198.51.100.1']");
        assert!(Rc::ptr_eq(&a, &again), "the same text is parsed once");
        let b = check("[ipv4-addr:value = '198.51.100.2']");
        assert!(!Rc::ptr_eq(&a, &b));
        assert!(b.is_valid());
        let bad = check("[ipv4-addr:value = ");
        assert!(!bad.is_valid(), "an invalid text gets its own check");
        let a2 = check("[ipv4-addr:value = '198.51.100.1']");
        assert!(a2.is_valid());
        assert_eq!(
            format!("{:?}", a2.pattern),
            format!("{:?}", a.pattern),
            "after other texts, the same text gets the same parse"
        );
    }
}
