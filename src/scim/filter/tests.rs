//! Conformance runner and table-driven tests for parsing, checking and evaluating filters.
