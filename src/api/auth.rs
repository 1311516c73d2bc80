//! Who is calling: the token in `Authorization: Bearer TOKEN`, checked against the state dir's
//! current list on every request (a revoked token stops at once). A failed attempt costs the
//! caller a quarter of a second, so guessing is slow.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;

use super::Api;
use super::problem::Problem;
use crate::platform::tokens::{Access, TokenInfo};

/// How long a request with a wrong token waits before its 401.
const FAILED_DELAY: Duration = Duration::from_millis(250);

/// A caller with a valid token (read-only or read-write).
pub struct Caller(pub TokenInfo);

/// A caller whose token may change things.
pub struct Writer(pub TokenInfo);

impl FromRequestParts<Arc<Api>> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, api: &Arc<Api>) -> Result<Self, Problem> {
        let presented = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let Some(presented) = presented else {
            return Err(Problem::new(
                StatusCode::UNAUTHORIZED,
                "no token: send `Authorization: Bearer TOKEN` (`pgs token create NAME` makes one)",
            ));
        };
        match api.platform().authenticate(presented)? {
            Some(token) => Ok(Caller(token)),
            None => {
                tokio::time::sleep(FAILED_DELAY).await;
                Err(Problem::new(StatusCode::UNAUTHORIZED, "unknown or revoked token"))
            }
        }
    }
}

impl FromRequestParts<Arc<Api>> for Writer {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, api: &Arc<Api>) -> Result<Self, Problem> {
        let Caller(token) = Caller::from_request_parts(parts, api).await?;
        if token.access != Access::ReadWrite {
            return Err(Problem::new(
                StatusCode::FORBIDDEN,
                format!("token {} is read-only: this request changes the platform", token.name),
            ));
        }
        Ok(Writer(token))
    }
}
