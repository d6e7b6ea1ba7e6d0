//! hyper edge: routing, auth, DTOs, the single error-to-wire mapping.
