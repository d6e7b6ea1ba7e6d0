//! The schemas cloudsso serves (RFC 7643 User, Enterprise User extension, Group), declared once
//! as static data. The same definitions drive input validation, response shaping, filter type
//! checks and the `/Schemas`, `/ResourceTypes` and `/ServiceProviderConfig` documents.
//!
//! This file owns the definition types and attribute-path resolution. The rest is split by job:
//! - `path`: the attribute path type (`AttrPath`) that filters, PATCH paths and attribute
//!   selections share, so `filter` depends on `schema` and never the reverse;
//! - `defs`: the definitions themselves (common attributes, User, Enterprise User, Group);
//! - `validate`: client JSON -> canonical document (keys as the schema spells them, types
//!   coerced, read-only attributes dropped);
//! - `limits`: bounds on string values (lengths, no control characters in names);
//! - `shape`: canonical document -> response body (`returned`, `attributes`,
//!   `excludedAttributes`);
//! - `discovery`: the `/Schemas`, `/ResourceTypes` and `/ServiceProviderConfig` documents.
//!
//! Everything here is a pure function over `serde_json::Value`; nothing touches the store or
//! hyper.

pub(crate) mod defs;
mod discovery;
mod limits;
mod path;
mod shape;
#[cfg(test)]
mod tests;
mod validate;

pub use defs::{
    COMMON_ATTRIBUTES, ENTERPRISE_USER_SCHEMA_DEF, GROUP, GROUP_SCHEMA_DEF, USER, USER_SCHEMA_DEF,
    resource_type,
};
pub use discovery::{
    all_resource_types, all_schemas, resource_type_by_name, resource_type_document, schema_by_id,
    schemas_document, service_provider_config,
};
pub use limits::{StringLimits, check_string_lengths, check_strings};
pub use path::AttrPath;
pub use shape::{parse_attribute_list, shape};
pub use validate::{
    check_value_counts, coerce_value, validate_create, validate_document, validate_replace,
};

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const ENTERPRISE_USER_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const LIST_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const PATCH_OP_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const SEARCH_REQUEST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
pub const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
pub const SERVICE_PROVIDER_CONFIG_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";

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

impl AttrType {
    /// The spelling RFC 7643 section 7 uses in schema documents.
    pub fn as_str(self) -> &'static str {
        match self {
            AttrType::String => "string",
            AttrType::Boolean => "boolean",
            AttrType::Decimal => "decimal",
            AttrType::Integer => "integer",
            AttrType::DateTime => "dateTime",
            AttrType::Binary => "binary",
            AttrType::Reference => "reference",
            AttrType::Complex => "complex",
        }
    }
}

impl Mutability {
    pub fn as_str(self) -> &'static str {
        match self {
            Mutability::ReadOnly => "readOnly",
            Mutability::ReadWrite => "readWrite",
            Mutability::Immutable => "immutable",
            Mutability::WriteOnly => "writeOnly",
        }
    }
}

impl Returned {
    pub fn as_str(self) -> &'static str {
        match self {
            Returned::Always => "always",
            Returned::Never => "never",
            Returned::Default => "default",
            Returned::Request => "request",
        }
    }
}

impl Uniqueness {
    pub fn as_str(self) -> &'static str {
        match self {
            Uniqueness::None => "none",
            Uniqueness::Server => "server",
            Uniqueness::Global => "global",
        }
    }
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

/// Which resource a request addresses (the shared user-or-group kind).
pub use crate::model::ResourceKind;

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
    pub attributes: Vec<AttrPath>,
    pub excluded: Vec<AttrPath>,
}

/// An attribute path resolved against a resource type.
#[derive(Debug, Clone, Copy)]
pub struct Resolved {
    /// The schema the attribute belongs to; `None` for the common attributes (id, externalId,
    /// meta) which live at the top level of every resource.
    pub schema: Option<&'static SchemaDef>,
    pub attr: &'static AttrDef,
    pub sub: Option<&'static AttrDef>,
}

impl Resolved {
    /// Whether the attribute lives under its extension URN key in documents.
    pub fn extension_urn(&self, rt: &ResourceTypeDef) -> Option<&'static str> {
        match self.schema {
            Some(s) if s.id != rt.schema.id => Some(s.id),
            _ => None,
        }
    }

    /// The attribute's value in a canonical document (keys as the schema spells them,
    /// extension attributes under their URN key). Does not descend into `sub`.
    pub fn get<'a>(
        &self,
        rt: &ResourceTypeDef,
        doc: &'a serde_json::Value,
    ) -> Option<&'a serde_json::Value> {
        match self.extension_urn(rt) {
            Some(urn) => doc.get(urn)?.get(self.attr.name),
            None => doc.get(self.attr.name),
        }
    }

    /// The definition a comparison applies to: the sub-attribute when given, else the attribute.
    pub fn leaf(&self) -> &'static AttrDef {
        self.sub.unwrap_or(self.attr)
    }
}

/// Finds a definition by name, case-insensitively.
pub fn find_attr(attrs: &'static [AttrDef], name: &str) -> Option<&'static AttrDef> {
    attrs.iter().find(|a| a.name.eq_ignore_ascii_case(name))
}

impl ResourceTypeDef {
    /// The core schema then each extension.
    pub fn schemas(&self) -> impl Iterator<Item = &'static SchemaDef> + '_ {
        std::iter::once(self.schema).chain(self.extensions.iter().map(|(s, _)| *s))
    }

    /// Finds a schema of this resource type by URN, case-insensitively.
    pub fn schema_by_urn(&self, urn: &str) -> Option<&'static SchemaDef> {
        self.schemas().find(|s| s.id.eq_ignore_ascii_case(urn))
    }

    /// Resolves `[urn:]name[.sub]` case-insensitively: common attributes, then the core schema,
    /// then extensions. `None` when the attribute or sub-attribute is not defined.
    pub fn resolve(&self, path: &AttrPath) -> Option<Resolved> {
        let (schema, attr) = match &path.schema {
            Some(urn) => {
                let schema = self.schema_by_urn(urn)?;
                if schema.id == self.schema.id {
                    match find_attr(COMMON_ATTRIBUTES, &path.name) {
                        Some(a) => (None, a),
                        None => (Some(schema), find_attr(schema.attributes, &path.name)?),
                    }
                } else {
                    (Some(schema), find_attr(schema.attributes, &path.name)?)
                }
            }
            None => match find_attr(COMMON_ATTRIBUTES, &path.name) {
                Some(a) => (None, a),
                None => self
                    .schemas()
                    .find_map(|s| find_attr(s.attributes, &path.name).map(|a| (Some(s), a)))?,
            },
        };
        let sub = match &path.sub {
            Some(name) => Some(find_attr(attr.sub_attributes, name)?),
            None => None,
        };
        Some(Resolved { schema, attr, sub })
    }
}
