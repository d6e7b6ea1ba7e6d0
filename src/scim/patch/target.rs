//! A PATCH path (or a key of a path-less value) resolved against the resource type: which
//! attribute, sub-attribute or elements an operation addresses. Names are matched
//! case-insensitively by `ResourceTypeDef::resolve`; an attribute the schema does not define is
//! `invalidPath` (RFC 7644 section 3.12: the path "was invalid"). Must not change the document:
//! `document` applies the operation to what this resolves.

use crate::scim::ScimError;
use crate::scim::filter::{self, AttrPath, Filter, FilterLimits, PatchPath};
use crate::scim::schema::{
    AttrDef, AttrType, Mutability, Resolved, ResourceTypeDef, SchemaDef, find_attr,
};

/// What an operation addresses.
#[derive(Debug, Clone)]
pub(super) enum Target {
    /// The resource itself: no path, or the core schema URN as the path.
    Resource,
    /// A whole extension: `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`.
    Extension(&'static SchemaDef),
    /// An attribute, or one sub-attribute of it (`name.givenName`, `emails.type`).
    Attr(Resolved),
    /// The elements of a multi-valued complex attribute a value filter selects, or one
    /// sub-attribute of each (`emails[type eq "work"].value`).
    Elements {
        path: AttrPath,
        outer: Resolved,
        filter: Filter,
        sub: Option<&'static AttrDef>,
    },
}

impl Target {
    /// Whether the target is a read-only attribute or sub-attribute (`id`, `meta`, `groups`,
    /// `manager.displayName`), which a client never writes (RFC 7643 section 2.2).
    pub(super) fn is_read_only(&self) -> bool {
        let read_only = |d: &AttrDef| d.mutability == Mutability::ReadOnly;
        match self {
            Target::Resource | Target::Extension(_) => false,
            Target::Attr(r) => read_only(r.attr) || r.sub.is_some_and(read_only),
            Target::Elements { outer, sub, .. } => {
                read_only(outer.attr) || sub.is_some_and(read_only)
            }
        }
    }
}

pub(super) fn resolve(path: &PatchPath, rt: &ResourceTypeDef) -> Result<Target, ScimError> {
    if let Some(whole) = schema_path(path, rt) {
        return Ok(if whole.id == rt.schema.id {
            Target::Resource
        } else {
            Target::Extension(whole)
        });
    }
    let Some(outer) = rt.resolve(&path.attr) else {
        return Err(ScimError::InvalidPath(format!(
            "`{}` is not an attribute of {}",
            path.attr, rt.name
        )));
    };
    let Some(filter) = &path.filter else {
        return Ok(Target::Attr(outer));
    };
    // INVARIANT: the parser rejects a value filter after a sub-attribute (`name.x[...]`).
    if outer.attr.ty != AttrType::Complex || !outer.attr.multi_valued {
        return Err(ScimError::InvalidPath(format!(
            "`{}` is not a multi-valued complex attribute: it takes no value filter",
            path.attr
        )));
    }
    filter::check_element(&path.attr, filter, rt)
        .map_err(|e| ScimError::InvalidPath(e.to_string()))?;
    let sub = match &path.sub {
        None => None,
        Some(name) => Some(find_attr(outer.attr.sub_attributes, name).ok_or_else(|| {
            ScimError::InvalidPath(format!(
                "`{name}` is not a sub-attribute of `{}`",
                path.attr
            ))
        })?),
    };
    Ok(Target::Elements {
        path: path.attr.clone(),
        outer,
        filter: filter.clone(),
        sub,
    })
}

/// The target a key of a path-less value names, relative to `within` (an extension whose object
/// holds the key) or to the resource. `None` for what is silently dropped: `schemas`, keys that
/// are not paths, attributes the schema does not define (identity providers send custom ones).
pub(super) fn resolve_key(
    key: &str,
    within: Option<&'static SchemaDef>,
    rt: &ResourceTypeDef,
) -> Option<Target> {
    if within.is_none() && key.eq_ignore_ascii_case("schemas") {
        return None;
    }
    let text = match within {
        Some(schema) => format!("{}:{key}", schema.id),
        None => key.to_owned(),
    };
    let path = filter::parse_path(&text, &FilterLimits::default()).ok()?;
    let target = resolve(&path, rt).ok()?;
    match (within, &target) {
        // `{"urn:...:User": {"urn:...:User": ...}}` nests no further.
        (Some(_), Target::Resource | Target::Extension(_)) => None,
        _ => Some(target),
    }
}

/// The schema a path names as a whole: `urn:...:2.0:User` parses as the URN `urn:...:2.0` and
/// the attribute `User`.
fn schema_path(path: &PatchPath, rt: &ResourceTypeDef) -> Option<&'static SchemaDef> {
    if path.filter.is_some() || path.sub.is_some() || path.attr.sub.is_some() {
        return None;
    }
    let urn = path.attr.schema.as_ref()?;
    rt.schema_by_urn(&format!("{urn}:{}", path.attr.name))
}
