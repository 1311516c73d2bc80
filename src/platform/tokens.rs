//! `pgs token`: the HTTP API's bearer tokens. A token is shown once, when it is made; the state
//! dir keeps only its SHA-256, and every request reads the current list, so a revoked token
//! stops working at once.

use super::{Error, Platform, Result, now};
use crate::state::ApiToken;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Access {
    /// Read only.
    ReadOnly,
    /// Read and change.
    ReadWrite,
}

/// A token as `pgs token list` shows it (never the token itself).
#[derive(Debug, Clone, serde::Serialize)]
pub struct TokenInfo {
    /// Its name.
    pub name: String,
    /// What it may do.
    pub access: Access,
    /// When it was made (seconds since the epoch).
    pub created_at: u64,
}

/// The prefix of every token (so that a leaked one is recognisable in a scan).
const PREFIX: &str = "pgs_";

impl Platform {
    /// Makes a token called `name`; returns it (the only time it is shown).
    pub fn create_token(&self, name: &str, read_only: bool) -> Result<String> {
        let valid = !name.is_empty()
            && name.len() <= 63
            && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !valid {
            return Err(Error::Invalid(format!(
                "invalid token name {name:?}: use 1 to 63 lowercase letters, digits, '-' and '_'"
            )));
        }
        use rand::Rng;
        let secret: String = rand::rng().sample_iter(&rand::distr::Alphanumeric).take(40).map(char::from).collect();
        let token = format!("{PREFIX}{secret}");
        let state = self.state();
        let lock = state.lock()?;
        let mut tokens = state.api_tokens()?;
        if tokens.tokens.contains_key(name) {
            return Err(Error::Conflict(format!("a token named {name} exists: `pgs token revoke {name}` first")));
        }
        tokens.tokens.insert(name.to_string(), ApiToken { sha256: digest(&token), read_only, created_at: now() });
        state.save_api_tokens(&lock, &tokens)?;
        Ok(token)
    }

    /// Every token, by name.
    pub fn list_tokens(&self) -> Result<Vec<TokenInfo>> {
        Ok(self
            .state()
            .api_tokens()?
            .tokens
            .into_iter()
            .map(|(name, t)| TokenInfo { name, access: access(&t), created_at: t.created_at })
            .collect())
    }

    /// Revokes the token called `name`.
    pub fn revoke_token(&self, name: &str) -> Result<()> {
        let state = self.state();
        let lock = state.lock()?;
        let mut tokens = state.api_tokens()?;
        if tokens.tokens.remove(name).is_none() {
            return Err(Error::Invalid(format!("no token named {name}: `pgs token list` shows them")));
        }
        state.save_api_tokens(&lock, &tokens)?;
        Ok(())
    }

    /// The token that `presented` is, if it is one (compared in constant time).
    pub fn authenticate(&self, presented: &str) -> Result<Option<TokenInfo>> {
        if !presented.starts_with(PREFIX) || presented.len() > 128 {
            return Ok(None);
        }
        let hash = digest(presented);
        Ok(self.state().api_tokens()?.tokens.into_iter().find_map(|(name, t)| {
            same(&t.sha256, &hash).then(|| TokenInfo { name, access: access(&t), created_at: t.created_at })
        }))
    }
}

/// Whether two hashes are equal, in time that does not depend on where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn access(t: &ApiToken) -> Access {
    if t.read_only { Access::ReadOnly } else { Access::ReadWrite }
}

/// SHA-256 of a token, hex. Tokens are random (238 bits), so a plain hash suffices.
fn digest(token: &str) -> String {
    ring::digest::digest(&ring::digest::SHA256, token.as_bytes()).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}
