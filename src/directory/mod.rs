//! Directory operations over SCIM documents and the store.
