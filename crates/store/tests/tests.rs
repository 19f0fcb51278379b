//! The store's integration tests: the conformance suite run against each backend, and
//! backend-specific checks.

#[macro_use]
mod conformance;
mod sqlite;

mod sqlite_in_memory {
    conformance_suite!(Box::new(
        accord_store::SqliteStore::open_in_memory().expect("in-memory store")
    ));
}

mod sqlite_file {
    // Each test gets its own directory; the store lives as long as the test.
    conformance_suite!(crate::sqlite::TempStore::new());
}
