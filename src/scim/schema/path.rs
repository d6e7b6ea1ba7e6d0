//! The attribute path, `[schemaURN ":"] name ["." sub]` (RFC 7644 section 3.10): the one type
//! filters, PATCH paths, sorting and `attributes` / `excludedAttributes` all name attributes
//! with. Owns the type and its printed form; must not parse filter text or resolve names
//! against a schema (`ResourceTypeDef::resolve` does that).

use std::fmt;

/// `[schemaURN ":"] name ["." sub]`. Names are kept as written; matching against the schema is
/// case-insensitive. `schema` is the URN without the trailing colon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrPath {
    pub schema: Option<String>,
    pub name: String,
    pub sub: Option<String>,
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(schema) = &self.schema {
            write!(f, "{schema}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}
