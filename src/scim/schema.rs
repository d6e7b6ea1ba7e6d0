//! The schemas cloudsso serves (RFC 7643 User, Enterprise User extension, Group), declared once
//! as static data. The same definitions drive input validation, response shaping, filter type
//! checks and the `/Schemas`, `/ResourceTypes` and `/ServiceProviderConfig` documents.



pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const ENTERPRISE_USER_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const LIST_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const PATCH_OP_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const SEARCH_REQUEST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Binary,
    Reference,
    Complex,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    Always,
    Never,
    Default,
    Request,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uniqueness {
    None,
    Server,
    Global,
}

/// One attribute definition (RFC 7643 section 7). Sub-attributes only for `Complex`.
#[derive(Debug)]
pub struct AttrDef {
    pub name: &'static str,
    pub ty: AttrType,
    pub multi_valued: bool,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    pub uniqueness: Uniqueness,
    pub canonical_values: &'static [&'static str],
    pub reference_types: &'static [&'static str],
    pub sub_attributes: &'static [AttrDef],
    pub description: &'static str,
}

/// A schema: its URN and top-level attributes.
#[derive(Debug)]
pub struct SchemaDef {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub attributes: &'static [AttrDef],
}

/// Which resource a request addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    User,
    Group,
}

/// A resource type: its core schema and extensions (RFC 7643 section 6).
#[derive(Debug)]
pub struct ResourceTypeDef {
    pub kind: ResourceKind,
    /// "User" / "Group"
    pub name: &'static str,
    /// "/Users" / "/Groups"
    pub endpoint: &'static str,
    pub description: &'static str,
    pub schema: &'static SchemaDef,
    /// (extension schema, required)
    pub extensions: &'static [(&'static SchemaDef, bool)],
}

/// `attributes` / `excludedAttributes` from a query string or a SearchRequest, already parsed
/// into attribute paths (RFC 7644 section 3.9).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttributeSelection {
    pub attributes: Vec<crate::scim::filter::AttrPath>,
    pub excluded: Vec<crate::scim::filter::AttrPath>,
}

