//! cloudsso as a SAML service provider of the customer's IdP: its names (entity id, ACS URL),
//! the AuthnRequest, and the verification of a posted Response.
//! Must not import hyper.

/// The SP's entity id for directory `dir` (also where its metadata is served):
/// `<public-url>/<directory id>/saml/metadata`.
pub fn sp_entity_id(public_url: &str, dir: &str) -> String {
    format!("{}/{dir}/saml/metadata", public_url.trim_end_matches('/'))
}

/// The SP's assertion consumer service (HTTP-POST): `<public-url>/<directory id>/saml/acs`.
pub fn acs_url(public_url: &str, dir: &str) -> String {
    format!("{}/{dir}/saml/acs", public_url.trim_end_matches('/'))
}
