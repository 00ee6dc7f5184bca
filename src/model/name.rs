use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

use crate::sql::quote_ident;

/// A schema-qualified object name. Ordered by schema, then name.
///
/// Serialises as the quoted SQL form (`public.users`, `"My Schema"."Order"`) so it can key a
/// JSON map.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QualifiedName {
    pub schema: String,
    pub name: String,
}

impl QualifiedName {
    pub fn new(schema: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            schema: schema.into(),
            name: name.into(),
        }
    }
}

impl fmt::Display for QualifiedName {
    /// The quoted, SQL-ready form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{}",
            quote_ident(&self.schema),
            quote_ident(&self.name)
        )
    }
}

impl Serialize for QualifiedName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for QualifiedName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let parts = crate::sql::split_qualified_name(&text).map_err(serde::de::Error::custom)?;
        match parts.as_slice() {
            [schema, name] => Ok(QualifiedName::new(schema.clone(), name.clone())),
            _ => Err(serde::de::Error::custom(format!(
                "expected schema.name, got {text:?}"
            ))),
        }
    }
}
