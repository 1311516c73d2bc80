//! Tenant ids: DNS labels, so that `TENANT.DOMAIN` is always a valid hostname.

use std::fmt;

/// The rule a tenant id must follow, as shown to users when an id is refused.
pub const RULE: &str = "a tenant id is 1 to 63 lowercase letters, digits or hyphens, \
starting with a letter and not ending with a hyphen";

/// Ids that would clash with names pgs or PostgreSQL use for themselves.
const RESERVED: &[&str] = &["postgres", "gateway", "template0", "template1", "pgs"];

/// A validated tenant id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TenantId(String);

/// Why a string is not a valid tenant id.
#[derive(Debug, thiserror::Error)]
pub enum InvalidTenantId {
    /// The id breaks the DNS label rule.
    #[error("invalid tenant id {0:?}: {RULE}")]
    Syntax(String),
    /// The id is reserved.
    #[error("tenant id {0:?} is reserved; choose another")]
    Reserved(String),
}

impl TenantId {
    /// Validates `s` as a tenant id.
    pub fn parse(s: &str) -> Result<Self, InvalidTenantId> {
        let b = s.as_bytes();
        let ok = !b.is_empty()
            && b.len() <= 63
            && b[0].is_ascii_lowercase()
            && b[b.len() - 1] != b'-'
            && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-');
        if !ok {
            return Err(InvalidTenantId::Syntax(s.to_string()));
        }
        if RESERVED.contains(&s) {
            return Err(InvalidTenantId::Reserved(s.to_string()));
        }
        Ok(Self(s.to_string()))
    }

    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for TenantId {
    type Error = InvalidTenantId;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<TenantId> for String {
    fn from(id: TenantId) -> String {
        id.0
    }
}

impl std::str::FromStr for TenantId {
    type Err = InvalidTenantId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_dns_labels() {
        for ok in ["a", "tenant1", "acme-corp", &"a".repeat(63)] {
            assert!(TenantId::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn refuses_everything_else() {
        for bad in ["", "1abc", "-a", "a-", "Tenant", "a_b", "a.b", "ä", &"a".repeat(64), "postgres", "gateway"] {
            assert!(TenantId::parse(bad).is_err(), "{bad}");
        }
    }
}
