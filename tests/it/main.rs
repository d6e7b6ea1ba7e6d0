//! Integration tests: a real server on an ephemeral port with a real redb file.
