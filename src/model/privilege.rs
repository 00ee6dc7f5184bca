//! Privileges (grants) on objects, default privileges, and owners.
//!
//! An ACL is compared as a set of `(grantee, privilege, grant option)` items, read with
//! `aclexplode`. Grantors are not compared (PostgreSQL records the owner as grantor of what
//! the owner grants), and the owner's own entries are keyed as [`Grantee::Owner`] rather than
//! by name: the shadow database's objects belong to the role that loaded the files, the live
//! ones to whoever created them, and neither says anything about what the files want.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

use super::ObjectId;

/// Who holds a privilege.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grantee {
    Public,
    /// The object's owner (for default privileges: the role whose new objects they apply to).
    Owner,
    Role(String),
}

/// One item of an ACL.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Privilege {
    pub grantee: Grantee,
    /// As `aclexplode` spells it: `SELECT`, `INSERT`, `USAGE`, `EXECUTE`, ...
    pub privilege: String,
    /// `WITH GRANT OPTION`.
    pub grantable: bool,
}

/// The privileges on one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acl {
    /// Kind `Table`, `View`, `MaterializedView`, `Sequence`, `Column`, `Schema`, `Function`,
    /// `Procedure` or `Type` (domains, enums and the other types alike).
    pub target: ObjectId,
    /// The privileges in effect: the ACL, or `acldefault` when it is NULL, so that an object
    /// nobody granted anything on and one whose grants were revoked back to the defaults
    /// compare equal.
    pub privileges: BTreeSet<Privilege>,
    /// What a newly created object of this kind holds (`acldefault`): the starting point of
    /// the grants on an object that a plan creates. Not compared.
    pub defaults: BTreeSet<Privilege>,
}

/// What `ALTER DEFAULT PRIVILEGES` objects apply to (`pg_default_acl.defaclobjtype`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DefaultAclObjects {
    Tables,
    Sequences,
    Functions,
    Types,
    Schemas,
}

impl DefaultAclObjects {
    pub fn from_catalog(code: &str) -> Option<Self> {
        Some(match code {
            "r" => Self::Tables,
            "S" => Self::Sequences,
            "f" => Self::Functions,
            "T" => Self::Types,
            "n" => Self::Schemas,
            _ => return None,
        })
    }

    /// The words after `ON` in `ALTER DEFAULT PRIVILEGES ... GRANT ... ON <words>`.
    pub fn sql(self) -> &'static str {
        match self {
            Self::Tables => "TABLES",
            Self::Sequences => "SEQUENCES",
            Self::Functions => "FUNCTIONS",
            Self::Types => "TYPES",
            Self::Schemas => "SCHEMAS",
        }
    }
}

/// One `pg_default_acl` entry: the privileges that objects created later get.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefaultAcl {
    /// `FOR ROLE`; `None` is the role that reads the database (the one that loaded the files
    /// into the shadow database, the one zdm connects as on the live one): what `ALTER DEFAULT
    /// PRIVILEGES` without `FOR ROLE` means.
    pub role: Option<String>,
    /// `IN SCHEMA`; `None` for the entry that applies in every schema.
    pub schema: Option<String>,
    pub objects: DefaultAclObjects,
    pub privileges: BTreeSet<Privilege>,
    /// What the role's new objects get without an entry: `acldefault` for an entry that
    /// applies in every schema, nothing for one `IN SCHEMA` (those only add). Not compared.
    pub defaults: BTreeSet<Privilege>,
}

impl DefaultAcl {
    /// The key of [`super::Model::default_privileges`]: `role app in schema s on tables`.
    pub fn key(&self) -> String {
        use crate::sql::quote_ident;
        let mut key = match &self.role {
            Some(role) => format!("role {}", quote_ident(role)),
            None => "current role".to_string(),
        };
        if let Some(schema) = &self.schema {
            key.push_str(&format!(" in schema {}", quote_ident(schema)));
        }
        key.push_str(&format!(" on {}", self.objects.sql().to_lowercase()));
        key
    }
}
