//! accord-lookalike integration tests (one binary).

mod observer;
mod props;
mod techniques;
