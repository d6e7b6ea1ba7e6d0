//! Tests for the schema layer.
