//! bundle_reader
