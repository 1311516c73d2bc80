//! The console's login: an API token typed once into the login form, then a session cookie
//! (`pgs_console`: HttpOnly, SameSite=Strict, Secure when served over TLS). The session keeps
//! the token in this process's memory only and checks it against the state dir on every
//! request, so a revoked token ends its sessions at once. Every state-changing form carries
//! the session's CSRF token, compared in constant time. A failed login waits a second.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;

use super::super::Api;
use super::super::problem::Problem;
use crate::platform::tokens::{Access, TokenInfo};

/// The cookie's name.
pub const COOKIE: &str = "pgs_console";
/// How long a session lasts without use.
const IDLE: Duration = Duration::from_secs(8 * 3600);
/// How long a failed login waits before its answer.
pub const FAILED_DELAY: Duration = Duration::from_secs(1);
/// Sessions kept at most (the oldest go first).
const MAX_SESSIONS: usize = 1000;

struct Entry {
    token: String,
    csrf: String,
    used: Instant,
}

/// The console's sessions.
#[derive(Default)]
pub struct Sessions {
    by_id: Mutex<HashMap<String, Entry>>,
}

fn random_id() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

impl Sessions {
    /// A new session for `token` (already checked); its id for the cookie.
    pub fn open(&self, token: &str) -> String {
        let mut by_id = self.by_id.lock().unwrap_or_else(|e| e.into_inner());
        by_id.retain(|_, e| e.used.elapsed() < IDLE);
        if by_id.len() >= MAX_SESSIONS
            && let Some(oldest) = by_id.iter().min_by_key(|(_, e)| e.used).map(|(k, _)| k.clone())
        {
            by_id.remove(&oldest);
        }
        let id = random_id();
        by_id.insert(id.clone(), Entry { token: token.to_string(), csrf: random_id(), used: Instant::now() });
        id
    }

    /// Ends session `id`.
    pub fn close(&self, id: &str) {
        self.by_id.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
    }

    /// The token and CSRF token of a live session.
    fn get(&self, id: &str) -> Option<(String, String)> {
        let mut by_id = self.by_id.lock().unwrap_or_else(|e| e.into_inner());
        let entry = by_id.get_mut(id).filter(|e| e.used.elapsed() < IDLE)?;
        entry.used = Instant::now();
        Some((entry.token.clone(), entry.csrf.clone()))
    }
}

/// The cookie that holds session `id` (`secure` when the console is served over TLS).
pub fn cookie(id: &str, secure: bool) -> String {
    format!(
        "{COOKIE}={id}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={}{}",
        IDLE.as_secs(),
        if secure { "; Secure" } else { "" }
    )
}

/// The cookie that ends the session in the browser.
pub fn expired_cookie() -> String {
    format!("{COOKIE}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// The session id a request's cookie names.
pub fn session_id(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(COOKIE).and_then(|r| r.strip_prefix('=')).map(str::to_string))
}

/// A logged-in operator: their token's name and access, and the session's CSRF token.
pub struct Operator {
    /// The token the session was opened with.
    pub token: TokenInfo,
    /// The session's CSRF token, put in every form.
    pub csrf: String,
    /// The session id.
    pub session: String,
}

impl Operator {
    /// Whether the token may change things.
    pub fn writes(&self) -> bool {
        self.token.access == Access::ReadWrite
    }

    /// Checks a form's CSRF token and that the token may change things.
    pub fn may_change(&self, csrf: &str) -> Result<(), Problem> {
        if !same(csrf, &self.csrf) {
            return Err(Problem::new(
                StatusCode::FORBIDDEN,
                "the form's CSRF token is missing or wrong: reload the page",
            ));
        }
        if !self.writes() {
            return Err(Problem::new(
                StatusCode::FORBIDDEN,
                format!("token {} is read-only: it cannot change anything", self.token.name),
            ));
        }
        Ok(())
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether a form's CSRF token is the session's (compared in constant time).
pub fn same(form: &str, session: &str) -> bool {
    constant_time_eq(form.as_bytes(), session.as_bytes())
}

impl FromRequestParts<Arc<Api>> for Operator {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, api: &Arc<Api>) -> Result<Self, Response> {
        let login = || Redirect::to("/console/login").into_response();
        let id = session_id(parts).ok_or_else(login)?;
        let (token, csrf) = api.sessions.get(&id).ok_or_else(login)?;
        match api.platform().authenticate(&token) {
            Ok(Some(info)) => Ok(Operator { token: info, csrf, session: id }),
            // Revoked since the login: the session ends.
            Ok(None) => {
                api.sessions.close(&id);
                Err(login())
            }
            Err(e) => Err((StatusCode::INTERNAL_SERVER_ERROR, format!("cannot read the tokens: {e}")).into_response()),
        }
    }
}
