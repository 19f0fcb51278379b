//! accord-server
