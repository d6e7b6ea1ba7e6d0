//! The attribute definitions, as static data: the common attributes (RFC 7643 section 3.1), the
//! User schema (section 4.1), the Enterprise User extension (section 4.3) and the Group schema
//! (section 4.2), with the characteristics of their section 8.7.1 representation, plus the two
//! resource types. Owns no behaviour beyond lookup; everything else reads these tables.
//!
//! Where cloudsso deliberately differs from section 8.7.1, the definition says so in a comment.

use super::{
    AttrDef, AttrType, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, Mutability, ResourceKind,
    ResourceTypeDef, Returned, SchemaDef, USER_SCHEMA, Uniqueness,
};

/// A single-valued, optional, not case-exact, readWrite, returned-by-default attribute with no
/// uniqueness: the RFC's defaults. The `const fn` modifiers below change one characteristic each.
pub(crate) const fn attr(name: &'static str, ty: AttrType, description: &'static str) -> AttrDef {
    AttrDef {
        name,
        ty,
        multi_valued: false,
        required: false,
        case_exact: false,
        mutability: Mutability::ReadWrite,
        returned: Returned::Default,
        uniqueness: Uniqueness::None,
        canonical_values: &[],
        reference_types: &[],
        sub_attributes: &[],
        description,
    }
}

const fn string(name: &'static str, description: &'static str) -> AttrDef {
    attr(name, AttrType::String, description)
}

const fn boolean(name: &'static str, description: &'static str) -> AttrDef {
    attr(name, AttrType::Boolean, description)
}

const fn date_time(name: &'static str, description: &'static str) -> AttrDef {
    attr(name, AttrType::DateTime, description)
}

const fn reference(
    name: &'static str,
    reference_types: &'static [&'static str],
    description: &'static str,
) -> AttrDef {
    let mut a = attr(name, AttrType::Reference, description);
    a.reference_types = reference_types;
    a
}

const fn complex(
    name: &'static str,
    sub_attributes: &'static [AttrDef],
    description: &'static str,
) -> AttrDef {
    let mut a = attr(name, AttrType::Complex, description);
    a.sub_attributes = sub_attributes;
    a
}

impl AttrDef {
    pub(crate) const fn multi(mut self) -> Self {
        self.multi_valued = true;
        self
    }

    pub(crate) const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub(crate) const fn case_exact(mut self) -> Self {
        self.case_exact = true;
        self
    }

    pub(crate) const fn read_only(mut self) -> Self {
        self.mutability = Mutability::ReadOnly;
        self
    }

    pub(crate) const fn immutable(mut self) -> Self {
        self.mutability = Mutability::Immutable;
        self
    }

    pub(crate) const fn write_only(mut self) -> Self {
        self.mutability = Mutability::WriteOnly;
        self
    }

    pub(crate) const fn returned(mut self, returned: Returned) -> Self {
        self.returned = returned;
        self
    }

    pub(crate) const fn unique(mut self, uniqueness: Uniqueness) -> Self {
        self.uniqueness = uniqueness;
        self
    }

    pub(crate) const fn canonical(mut self, values: &'static [&'static str]) -> Self {
        self.canonical_values = values;
        self
    }
}

// ---- Common attributes (RFC 7643 section 3.1) ----

const META_SUBS: &[AttrDef] = &[
    string(
        "resourceType",
        "The name of the resource type of the resource.",
    )
    .case_exact()
    .read_only(),
    date_time(
        "created",
        "The \"DateTime\" that the resource was added to the service provider.",
    )
    .read_only(),
    date_time(
        "lastModified",
        "The most recent DateTime that the details of this resource were updated at the service \
         provider.",
    )
    .read_only(),
    reference(
        "location",
        &["uri"],
        "The URI of the resource being returned.",
    )
    .case_exact()
    .read_only(),
    string("version", "The version of the resource being returned.")
        .case_exact()
        .read_only(),
];

/// The attributes every resource has (RFC 7643 section 3.1), outside any schema. They are valid
/// in documents, filters and paths, but `/Schemas` does not list them (section 3.1).
pub static COMMON_ATTRIBUTES: &[AttrDef] = &[
    string(
        "id",
        "A unique identifier for a SCIM resource as defined by the service provider.",
    )
    .case_exact()
    .read_only()
    .returned(Returned::Always)
    .unique(Uniqueness::Server),
    string(
        "externalId",
        "A String that is an identifier for the resource as defined by the provisioning client.",
    )
    .case_exact(),
    complex(
        "meta",
        META_SUBS,
        "A complex attribute containing resource metadata.",
    )
    .read_only(),
];

// ---- User (RFC 7643 sections 4.1 and 8.7.1) ----

const DISPLAY_DESCRIPTION: &str =
    "A human-readable name, primarily used for display purposes.  READ-ONLY.";
const PRIMARY_DESCRIPTION: &str = "A Boolean value indicating the 'primary' or preferred \
     attribute value for this attribute.  The primary attribute value 'true' MUST appear no \
     more than once.";
const EMAIL_DESCRIPTION: &str = "Email addresses for the user.  The value SHOULD be \
     canonicalized by the service provider, e.g., 'bjensen@example.com' instead of \
     'bjensen@EXAMPLE.COM'.  Canonical type values of 'work', 'home', and 'other'.";

const NAME_SUBS: &[AttrDef] = &[
    string(
        "formatted",
        "The full name, including all middle names, titles, and suffixes as appropriate, \
         formatted for display (e.g., 'Ms. Barbara J Jensen, III').",
    ),
    string(
        "familyName",
        "The family name of the User, or last name in most Western languages (e.g., 'Jensen' \
         given the full name 'Ms. Barbara J Jensen, III').",
    ),
    string(
        "givenName",
        "The given name of the User, or first name in most Western languages (e.g., 'Barbara' \
         given the full name 'Ms. Barbara J Jensen, III').",
    ),
    string(
        "middleName",
        "The middle name(s) of the User (e.g., 'Jane' given the full name 'Ms. Barbara J \
         Jensen, III').",
    ),
    string(
        "honorificPrefix",
        "The honorific prefix(es) of the User, or title in most Western languages (e.g., 'Ms.' \
         given the full name 'Ms. Barbara J Jensen, III').",
    ),
    string(
        "honorificSuffix",
        "The honorific suffix(es) of the User, or suffix in most Western languages (e.g., 'III' \
         given the full name 'Ms. Barbara J Jensen, III').",
    ),
];

const EMAIL_SUBS: &[AttrDef] = &[
    string("value", EMAIL_DESCRIPTION),
    string("display", DISPLAY_DESCRIPTION),
    string(
        "type",
        "A label indicating the attribute's function, e.g., 'work' or 'home'.",
    )
    .canonical(&["work", "home", "other"]),
    boolean(
        "primary",
        "A Boolean value indicating the 'primary' or preferred attribute value for this \
         attribute, e.g., the preferred mailing address or primary email address.  The primary \
         attribute value 'true' MUST appear no more than once.",
    ),
];

const PHONE_SUBS: &[AttrDef] = &[
    string("value", "Phone number of the User."),
    string("display", DISPLAY_DESCRIPTION),
    string(
        "type",
        "A label indicating the attribute's function, e.g., 'work', 'home', 'mobile'.",
    )
    .canonical(&["work", "home", "mobile", "fax", "pager", "other"]),
    boolean(
        "primary",
        "A Boolean value indicating the 'primary' or preferred attribute value for this \
         attribute, e.g., the preferred phone number or primary phone number.  The primary \
         attribute value 'true' MUST appear no more than once.",
    ),
];

const IM_SUBS: &[AttrDef] = &[
    string("value", "Instant messaging address for the User."),
    string("display", DISPLAY_DESCRIPTION),
    string(
        "type",
        "A label indicating the attribute's function, e.g., 'aim', 'gtalk', 'xmpp'.",
    )
    .canonical(&["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"]),
    boolean(
        "primary",
        "A Boolean value indicating the 'primary' or preferred attribute value for this \
         attribute, e.g., the preferred messenger or primary messenger.  The primary attribute \
         value 'true' MUST appear no more than once.",
    ),
];

const PHOTO_SUBS: &[AttrDef] = &[
    reference("value", &["external"], "URL of a photo of the User."),
    string("display", DISPLAY_DESCRIPTION),
    string(
        "type",
        "A label indicating the attribute's function, i.e., 'photo' or 'thumbnail'.",
    )
    .canonical(&["photo", "thumbnail"]),
    boolean(
        "primary",
        "A Boolean value indicating the 'primary' or preferred attribute value for this \
         attribute, e.g., the preferred photo or thumbnail.  The primary attribute value 'true' \
         MUST appear no more than once.",
    ),
];

// Section 8.7.1 omits `primary` here although section 4.1.2 gives addresses one; we follow 4.1.2.
const ADDRESS_SUBS: &[AttrDef] = &[
    string(
        "formatted",
        "The full mailing address, formatted for display or use with a mailing label.  This \
         attribute MAY contain newlines.",
    ),
    string(
        "streetAddress",
        "The full street address component, which may include house number, street name, P.O. \
         box, and multi-line extended street address information.  This attribute MAY contain \
         newlines.",
    ),
    string("locality", "The city or locality component."),
    string("region", "The state or region component."),
    string("postalCode", "The zip code or postal code component."),
    string("country", "The country name component."),
    string(
        "type",
        "A label indicating the attribute's function, e.g., 'work' or 'home'.",
    )
    .canonical(&["work", "home", "other"]),
    boolean(
        "primary",
        "A Boolean value indicating the 'primary' or preferred attribute value for this \
         attribute, e.g., the preferred mailing address or primary address.  The primary \
         attribute value 'true' MUST appear no more than once.",
    ),
];

const GROUPS_SUBS: &[AttrDef] = &[
    string("value", "The identifier of the User's group.").read_only(),
    reference(
        "$ref",
        &["User", "Group"],
        "The URI of the corresponding 'Group' resource to which the user belongs.",
    )
    .read_only(),
    string("display", DISPLAY_DESCRIPTION).read_only(),
    string(
        "type",
        "A label indicating the attribute's function, e.g., 'direct' or 'indirect'.",
    )
    .canonical(&["direct", "indirect"])
    .read_only(),
];

const ENTITLEMENT_SUBS: &[AttrDef] = &[
    string("value", "The value of an entitlement."),
    string("display", DISPLAY_DESCRIPTION),
    string("type", "A label indicating the attribute's function."),
    boolean("primary", PRIMARY_DESCRIPTION),
];

const ROLE_SUBS: &[AttrDef] = &[
    string("value", "The value of a role."),
    string("display", DISPLAY_DESCRIPTION),
    string("type", "A label indicating the attribute's function."),
    boolean("primary", PRIMARY_DESCRIPTION),
];

const X509_SUBS: &[AttrDef] = &[
    attr(
        "value",
        AttrType::Binary,
        "The value of an X.509 certificate.",
    ),
    string("display", DISPLAY_DESCRIPTION),
    string("type", "A label indicating the attribute's function."),
    boolean("primary", PRIMARY_DESCRIPTION),
];

const USER_ATTRIBUTES: &[AttrDef] = &[
    string(
        "userName",
        "Unique identifier for the User, typically used by the user to directly authenticate to \
         the service provider.  Each User MUST include a non-empty userName value.  This \
         identifier MUST be unique across the service provider's entire set of Users.  REQUIRED.",
    )
    .required()
    .unique(Uniqueness::Server),
    complex(
        "name",
        NAME_SUBS,
        "The components of the user's real name.  Providers MAY return just the full name as a \
         single string in the formatted sub-attribute, or they MAY return just the individual \
         component attributes using the other sub-attributes, or they MAY return both.  If both \
         variants are returned, they SHOULD be describing the same name, with the formatted \
         name indicating how the component attributes should be combined.",
    ),
    string(
        "displayName",
        "The name of the User, suitable for display to end-users.  The name SHOULD be the full \
         name of the User being described, if known.",
    ),
    string(
        "nickName",
        "The casual way to address the user in real life, e.g., 'Bob' or 'Bobby' instead of \
         'Robert'.  This attribute SHOULD NOT be used to represent a User's username (e.g., \
         'bjensen' or 'mpepperidge').",
    ),
    reference(
        "profileUrl",
        &["external"],
        "A fully qualified URL pointing to a page representing the User's online profile.",
    ),
    string("title", "The user's title, such as \"Vice President.\""),
    string(
        "userType",
        "Used to identify the relationship between the organization and the user.  Typical \
         values used might be 'Contractor', 'Employee', 'Intern', 'Temp', 'External', and \
         'Unknown', but any value may be used.",
    ),
    string(
        "preferredLanguage",
        "Indicates the User's preferred written or spoken language.  Generally used for \
         selecting a localized user interface; e.g., 'en_US' specifies the language English \
         and country US.",
    ),
    string(
        "locale",
        "Used to indicate the User's default location for purposes of localizing items such as \
         currency, date time format, or numerical representations.",
    ),
    string(
        "timezone",
        "The User's time zone in the 'Olson' time zone database format, e.g., \
         'America/Los_Angeles'.",
    ),
    boolean(
        "active",
        "A Boolean value indicating the User's administrative status.",
    ),
    string(
        "password",
        "The User's cleartext password.  This attribute is intended to be used as a means to \
         specify an initial password when creating a new User or to reset an existing User's \
         password.",
    )
    .write_only()
    .returned(Returned::Never),
    complex("emails", EMAIL_SUBS, EMAIL_DESCRIPTION).multi(),
    complex(
        "phoneNumbers",
        PHONE_SUBS,
        "Phone numbers for the User.  The value SHOULD be canonicalized by the service provider \
         according to the format specified in RFC 3966, e.g., 'tel:+1-201-555-0123'.  Canonical \
         type values of 'work', 'home', 'mobile', 'fax', 'pager', and 'other'.",
    )
    .multi(),
    complex("ims", IM_SUBS, "Instant messaging addresses for the User.").multi(),
    complex("photos", PHOTO_SUBS, "URLs of photos of the User.").multi(),
    complex(
        "addresses",
        ADDRESS_SUBS,
        "A physical mailing address for this User.  Canonical type values of 'work', 'home', \
         and 'other'.  This attribute is a complex type with the following sub-attributes.",
    )
    .multi(),
    complex(
        "groups",
        GROUPS_SUBS,
        "A list of groups to which the user belongs, either through direct membership, through \
         nested groups, or dynamically calculated.",
    )
    .multi()
    .read_only(),
    complex(
        "entitlements",
        ENTITLEMENT_SUBS,
        "A list of entitlements for the User that represent a thing the User has.",
    )
    .multi(),
    complex(
        "roles",
        ROLE_SUBS,
        "A list of roles for the User that collectively represent who the User is, e.g., \
         'Student', 'Faculty'.",
    )
    .multi(),
    complex(
        "x509Certificates",
        X509_SUBS,
        "A list of certificates issued to the User.",
    )
    .multi(),
];

pub static USER_SCHEMA_DEF: SchemaDef = SchemaDef {
    id: USER_SCHEMA,
    name: "User",
    description: "User Account",
    attributes: USER_ATTRIBUTES,
};

// ---- Enterprise User extension (RFC 7643 sections 4.3 and 8.7.1) ----

const MANAGER_SUBS: &[AttrDef] = &[
    string(
        "value",
        "The id of the SCIM resource representing the User's manager.  REQUIRED.",
    ),
    reference(
        "$ref",
        &["User"],
        "The URI of the SCIM resource representing the User's manager.  REQUIRED.",
    ),
    string(
        "displayName",
        "The displayName of the User's manager.  OPTIONAL and READ-ONLY.",
    )
    .read_only(),
];

const ENTERPRISE_USER_ATTRIBUTES: &[AttrDef] = &[
    string(
        "employeeNumber",
        "Numeric or alphanumeric identifier assigned to a person, typically based on order of \
         hire or association with an organization.",
    ),
    string("costCenter", "Identifies the name of a cost center."),
    string("organization", "Identifies the name of an organization."),
    string("division", "Identifies the name of a division."),
    string("department", "Identifies the name of a department."),
    complex(
        "manager",
        MANAGER_SUBS,
        "The User's manager.  A complex type that optionally allows service providers to \
         represent organizational hierarchy by referencing the 'id' attribute of another User.",
    ),
];

pub static ENTERPRISE_USER_SCHEMA_DEF: SchemaDef = SchemaDef {
    id: ENTERPRISE_USER_SCHEMA,
    name: "EnterpriseUser",
    description: "Enterprise User",
    attributes: ENTERPRISE_USER_ATTRIBUTES,
};

// ---- Group (RFC 7643 sections 4.2 and 8.7.1) ----

// Section 8.7.1 lists only value, $ref and type; section 4.2 and every IdP also use `display`.
// `value` is required here (8.7.1 says optional): a member without an id names nobody.
// `value` is case-exact: it is a resource id, compared exactly by the membership index too.
const MEMBER_SUBS: &[AttrDef] = &[
    string("value", "Identifier of the member of this Group.")
        .required()
        .case_exact()
        .immutable(),
    reference(
        "$ref",
        &["User", "Group"],
        "The URI corresponding to a SCIM resource that is a member of this Group.",
    )
    .immutable(),
    string("display", DISPLAY_DESCRIPTION).immutable(),
    string(
        "type",
        "A label indicating the type of resource, e.g., 'User' or 'Group'.",
    )
    .canonical(&["User", "Group"])
    .immutable(),
];

const GROUP_ATTRIBUTES: &[AttrDef] = &[
    // Section 8.7.1 says required false and uniqueness none; cloudsso requires a display name
    // and keeps it unique, so the definition advertises what the service enforces.
    string(
        "displayName",
        "A human-readable name for the Group.  REQUIRED.",
    )
    .required()
    .unique(Uniqueness::Server),
    complex("members", MEMBER_SUBS, "A list of members of the Group.").multi(),
];

pub static GROUP_SCHEMA_DEF: SchemaDef = SchemaDef {
    id: GROUP_SCHEMA,
    name: "Group",
    description: "Group",
    attributes: GROUP_ATTRIBUTES,
};

// ---- Resource types (RFC 7643 section 6) ----

pub static USER: ResourceTypeDef = ResourceTypeDef {
    kind: ResourceKind::User,
    name: "User",
    endpoint: "/Users",
    description: "User Account",
    schema: &USER_SCHEMA_DEF,
    extensions: &[(&ENTERPRISE_USER_SCHEMA_DEF, false)],
};

pub static GROUP: ResourceTypeDef = ResourceTypeDef {
    kind: ResourceKind::Group,
    name: "Group",
    endpoint: "/Groups",
    description: "Group",
    schema: &GROUP_SCHEMA_DEF,
    extensions: &[],
};

pub fn resource_type(kind: ResourceKind) -> &'static ResourceTypeDef {
    match kind {
        ResourceKind::User => &USER,
        ResourceKind::Group => &GROUP,
    }
}
