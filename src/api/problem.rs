//! Errors of the API as RFC 9457 problem documents: the status from the platform's error kind,
//! the detail the CLI's message. Internal details (paths in the state dir, Docker's own words)
//! stay in the server's log.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::platform::Error;

/// A failed request.
#[derive(Debug)]
pub struct Problem {
    /// HTTP status.
    pub status: StatusCode,
    /// What the client should read.
    pub detail: String,
}

impl Problem {
    /// A problem with `status` and `detail`.
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self { status, detail: detail.into() }
    }

    /// 404.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, detail)
    }

    /// A body that is not the JSON the route takes: 400 (415 for another content type).
    pub fn from_rejection(r: axum::extract::rejection::JsonRejection) -> Self {
        use axum::extract::rejection::JsonRejection;
        let status = match r {
            JsonRejection::MissingJsonContentType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            _ => StatusCode::BAD_REQUEST,
        };
        Self::new(status, format!("invalid request body: {}", r.body_text()))
    }
}

impl From<Error> for Problem {
    fn from(e: Error) -> Self {
        let (status, detail) = explain(&e);
        Self::new(status, detail)
    }
}

/// The status of a platform error, and the detail a client may read: the CLI's message, except
/// for failures whose words are internal (paths in the state dir and the like), which stay in
/// the server's log.
fn explain(e: &Error) -> (StatusCode, String) {
    let status = match e {
        // A failed step: the status of why it failed, the detail both.
        Error::Step { what, source } => {
            let (status, why) = explain(source);
            return (status, format!("{what}: {why}"));
        }
        Error::NoTenant(_) => StatusCode::NOT_FOUND,
        Error::Invalid(_) => StatusCode::BAD_REQUEST,
        Error::Conflict(_) => StatusCode::CONFLICT,
        Error::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
        Error::Unreachable(_) | Error::Docker(_) => StatusCode::SERVICE_UNAVAILABLE,
        // Something that should work and does not (archiving, a backup, a drill): the
        // operator's message is worth showing.
        Error::Failing(_) | Error::Backup(_) => StatusCode::INTERNAL_SERVER_ERROR,
        _ => {
            tracing::error!(error = %e, "API request failed");
            return (StatusCode::INTERNAL_SERVER_ERROR, "the request failed on the server: its log says why".into());
        }
    };
    (status, e.to_string())
}

/// An RFC 9457 problem document, as every failed request returns it.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ProblemDocument {
    /// Always `about:blank`: the status says what kind of failure it is.
    #[serde(rename = "type")]
    pub kind: String,
    /// The status's reason phrase.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What failed and what to do: the CLI's message.
    pub detail: String,
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = ProblemDocument {
            kind: "about:blank".to_string(),
            title: self.status.canonical_reason().unwrap_or("Error").to_string(),
            status: self.status.as_u16(),
            detail: self.detail,
        };
        let text = serde_json::to_string(&body).unwrap_or_default();
        let mut response = (self.status, text).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
