//! accord-lookalike integration tests (one binary).

mod classes;
mod observer;
mod props;
mod techniques;
