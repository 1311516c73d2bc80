//! The HTTP API (`pgs api run`): a second front end over the same [`Platform`] as the CLI.
//! Versioned JSON under `/v1`, verb for verb with the CLI, bodies in the shape of the CLI's
//! `--json`, bearer tokens (`pgs token`), and errors as RFC 9457 problem documents
//! (`application/problem+json`) carrying the CLI's message.
//!
//! - [`tenants`]: the tenant verbs (create, list, info, start, stop, remove, recreate, access,
//!   allowlist, pool, suspend policy, suspend).
//! - [`backups`]: backups (list, run, verify), restore and clone.
//! - [`nodes`]: nodes, moves, the gateway and HA.
//! - [`jobs`]: long operations as `202` jobs with their progress as server-sent events.
//! - [`problem`]: errors, mapped from the platform's error kinds in one place.
//! - [`auth`]: who is calling, from the `Authorization: Bearer` header.
//!
//! The OpenAPI document ([`openapi`]) is generated from the handlers' annotations, served at
//! `/v1/openapi.json` and committed as `docs/openapi.json` (a test keeps the two the same).
//!
//! It can drive Docker, so whoever holds a read-write token is root on the host. On loopback it
//! speaks plain HTTP; on any other address only TLS, with the platform certificate ([`tls`]).

pub mod auth;
pub mod backups;
pub mod console;
pub mod jobs;
pub mod nodes;
pub mod problem;
pub mod tenants;
pub mod tls;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::Path;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::docker::Docker;
use crate::platform::Platform;
use problem::Problem;

/// Largest request body accepted.
const MAX_BODY: usize = 64 * 1024;
/// How long a stopping server waits for its running jobs.
const JOBS_GRACE: Duration = Duration::from_secs(600);

/// What every handler shares.
pub struct Api {
    platform: Platform,
    docker: Docker,
    jobs: jobs::Jobs,
    /// The console's logged-in sessions.
    sessions: console::session::Sessions,
    /// Whether it is served over TLS (the console's cookie is then `Secure`).
    tls: bool,
}

impl Api {
    /// The platform the API drives.
    pub fn platform(&self) -> &Platform {
        &self.platform
    }
}

/// Serves the API on `listen` (plain HTTP on loopback, TLS with the platform certificate on any
/// other address) until `shutdown` completes, then lets running jobs finish (up to ten minutes).
pub async fn serve(
    platform: Platform,
    listen: SocketAddr,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let files = platform.state().cert_files();
    let docker = Docker::connect().await?;
    let tls = !listen.ip().is_loopback();
    let api = Arc::new(Api { platform, docker, jobs: jobs::Jobs::default(), sessions: Default::default(), tls });
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}: is another API server running there?"))?;
    // Under systemd (templates/pgs-api.service): ready once listening.
    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Ready]);
    if listen.ip().is_loopback() {
        tracing::info!(%listen, "API listening (HTTP, loopback)");
        axum::serve(listener, router(api.clone())).with_graceful_shutdown(shutdown).await?;
    } else {
        let listener = tls::TlsListener::new(listener, files)?;
        tracing::info!(%listen, "API listening (HTTPS, platform certificate)");
        axum::serve(listener, router(api.clone())).with_graceful_shutdown(shutdown).await?;
    }
    if !api.jobs.wait(JOBS_GRACE).await {
        tracing::warn!("API stopped with jobs still running: their tenants may need `pgs info` and a retry");
    }
    Ok(())
}

/// The OpenAPI description of `/v1`'s verbs and types.
#[derive(OpenApi)]
#[openapi(
    info(title = "pgs API", description = "Tenants, backups, nodes and jobs of a pgs installation; the CLI's verbs over HTTP."),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "tenants", description = "The tenant verbs"),
        (name = "backups", description = "Backups, restores and clones"),
        (name = "nodes", description = "Nodes, moves, the gateway and HA"),
        (name = "jobs", description = "Long operations and their progress"),
    )
)]
struct Doc;

/// Declares the bearer token scheme.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let scheme = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some("`pgs token create NAME`"));
        openapi.components.get_or_insert_default().add_security_scheme("bearer", SecurityScheme::Http(scheme.build()));
    }
}

/// The routes with their OpenAPI description.
fn routes() -> OpenApiRouter<Arc<Api>> {
    OpenApiRouter::with_openapi(Doc::openapi())
        .merge(tenants::routes())
        .merge(backups::routes())
        .merge(nodes::routes())
        .merge(jobs::routes())
}

/// The OpenAPI document of the API (`pgs api openapi` prints it; `docs/openapi.json` is it).
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().split_for_parts().1
}

/// The router.
pub fn router(api: Arc<Api>) -> axum::Router {
    let (router, doc) = routes().split_for_parts();
    let doc = Arc::new(doc);
    router
        .route("/v1/health", axum::routing::get(|| async { Json(serde_json::json!({"ok": true})) }))
        .route("/v1/openapi.json", axum::routing::get(move || async move { Json(doc.as_ref().clone()) }))
        .merge(console::routes())
        .fallback(|| async { Problem::not_found("no such API path: /v1/openapi.json lists them") })
        .method_not_allowed_fallback(|| async {
            Problem::new(axum::http::StatusCode::METHOD_NOT_ALLOWED, "this path does not take that method")
        })
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .with_state(api)
}

/// The `{id}` (or `{name}`) of a path; one that does not decode is a 400 problem document.
type PathId = Result<Path<String>, axum::extract::rejection::PathRejection>;

/// The id of a path, or the problem it is.
fn path_id(id: PathId) -> Result<String, Problem> {
    id.map(|Path(id)| id)
        .map_err(|e| Problem::new(axum::http::StatusCode::BAD_REQUEST, format!("invalid path: {}", e.body_text())))
}

/// A body the route takes as JSON, or the problem it is.
type Body<T> = Result<Json<T>, axum::extract::rejection::JsonRejection>;

/// The body of a request, or the problem it is.
fn body<T>(b: Body<T>) -> Result<T, Problem> {
    b.map(|Json(b)| b).map_err(Problem::from_rejection)
}

/// A body that may be absent: no body (or no content type) is `T::default()`.
type OptionalBody<T> = Option<Json<T>>;

/// A query string the route takes, or the problem it is.
type Query<T> = Result<axum::extract::Query<T>, axum::extract::rejection::QueryRejection>;

/// The query of a request, or the problem it is.
fn query<T>(q: Query<T>) -> Result<T, Problem> {
    q.map(|axum::extract::Query(q)| q)
        .map_err(|e| Problem::new(axum::http::StatusCode::BAD_REQUEST, format!("invalid query: {}", e.body_text())))
}

/// Turns a platform result into the JSON a job keeps.
fn outcome<T: serde::Serialize>(r: crate::platform::Result<T>) -> Result<serde_json::Value, Problem> {
    let value = r?;
    serde_json::to_value(value).map_err(|e| Problem::from(crate::platform::Error::from(e)))
}

#[cfg(test)]
mod tests {
    /// `docs/openapi.json` is what the code generates: `pgs api openapi > docs/openapi.json`
    /// after changing a route or a type.
    #[test]
    fn the_committed_openapi_document_is_current() {
        let generated = serde_json::to_string_pretty(&super::openapi()).unwrap() + "\n";
        let committed = include_str!("../../docs/openapi.json");
        assert!(
            generated == committed,
            "docs/openapi.json is out of date: run `cargo run -- api openapi > docs/openapi.json` and commit it"
        );
    }
}
