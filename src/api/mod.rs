//! The HTTP API (`pgs api run`): a second front end over the same [`Platform`] as the CLI.
//! Versioned JSON under `/v1`, bodies in the shape of the CLI's `--json`, bearer tokens
//! (`pgs token`), and errors as RFC 9457 problem documents (`application/problem+json`) carrying
//! the CLI's message.
//!
//! - [`problem`]: errors, mapped from the platform's error kinds in one place.
//! - [`auth`]: who is calling, from the `Authorization: Bearer` header.
//!
//! It can drive Docker, so whoever holds a read-write token is root on the host; it listens on
//! loopback only (plain HTTP) until TLS with the platform certificate is done.

pub mod auth;
pub mod problem;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::routing::{get, post, put};
use axum::{Json, Router};

use crate::docker::Docker;
use crate::platform::{Platform, TenantInfo};
use auth::{Caller, Writer};
use problem::Problem;

/// Largest request body accepted.
const MAX_BODY: usize = 64 * 1024;

/// What every handler shares.
pub struct Api {
    platform: Platform,
    docker: Docker,
}

/// Serves the API on `listen` until `shutdown` completes.
pub async fn serve(
    platform: Platform,
    listen: SocketAddr,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    if !listen.ip().is_loopback() {
        anyhow::bail!(
            "the API serves plain HTTP, so only on loopback for now: listen on 127.0.0.1 or [::1] (TLS on other addresses is not done yet)"
        );
    }
    let docker = Docker::connect().await?;
    let api = Arc::new(Api { platform, docker });
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}: is another API server running there?"))?;
    tracing::info!(%listen, "API listening");
    axum::serve(listener, router(api)).with_graceful_shutdown(shutdown).await?;
    Ok(())
}

/// The routes.
pub fn router(api: Arc<Api>) -> Router {
    Router::new()
        .route("/v1/health", get(|| async { Json(serde_json::json!({"ok": true})) }))
        .route("/v1/tenants", get(list))
        .route("/v1/tenants/{id}", get(info))
        .route("/v1/tenants/{id}/access", put(set_access))
        .route("/v1/tenants/{id}/pool", get(pool).patch(set_pool))
        .route("/v1/tenants/{id}/allow", post(allow))
        .route("/v1/tenants/{id}/deny", post(deny))
        .fallback(|| async { Problem::not_found("no such API path: /v1/tenants and /v1/tenants/{id} are served") })
        .method_not_allowed_fallback(|| async {
            Problem::new(axum::http::StatusCode::METHOD_NOT_ALLOWED, "this path does not take that method")
        })
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .with_state(api)
}

/// `GET /v1/tenants`: as `pgs list --json`.
async fn list(State(api): State<Arc<Api>>, _: Caller) -> Result<Json<Vec<TenantInfo>>, Problem> {
    Ok(Json(api.platform.list(&api.docker).await?))
}

/// `GET /v1/tenants/{id}`: as `pgs info ID --json` (never the password).
async fn info(State(api): State<Arc<Api>>, _: Caller, id: PathId) -> Result<Json<TenantInfo>, Problem> {
    Ok(Json(api.platform.info(&api.docker, &path_id(id)?, false).await?))
}

/// The `{id}` of a path; one that does not decode is a 400 problem document.
type PathId = Result<Path<String>, axum::extract::rejection::PathRejection>;

/// The tenant id of a path, or the problem it is.
fn path_id(id: PathId) -> Result<String, Problem> {
    id.map(|Path(id)| id)
        .map_err(|e| Problem::new(axum::http::StatusCode::BAD_REQUEST, format!("invalid path: {}", e.body_text())))
}

/// The body of `PUT /v1/tenants/{id}/access`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AccessBody {
    /// Whether the gateway admits the tenant's clients.
    access: bool,
}

/// `PUT /v1/tenants/{id}/access` with `{"access": true|false}`: as `pgs enable-access` /
/// `disable-access`.
async fn set_access(
    State(api): State<Arc<Api>>,
    _: Writer,
    id: PathId,
    body: Result<Json<AccessBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<serde_json::Value>, Problem> {
    let id = path_id(id)?;
    let Json(body) = body.map_err(Problem::from_rejection)?;
    api.platform.set_access(&id, body.access)?;
    api.platform.tell_nodes().await?;
    Ok(Json(serde_json::json!({"id": id, "access": body.access})))
}

/// A body the route takes as JSON, or the problem it is.
type Body<T> = Result<Json<T>, axum::extract::rejection::JsonRejection>;

/// The pool settings in force, as `pgs pool ID --json` shows them.
fn pool_document(settings: crate::state::PoolSettings) -> Result<Json<serde_json::Value>, Problem> {
    let mut shown = serde_json::to_value(settings).map_err(crate::platform::Error::from)?;
    shown["reserve_limit"] = settings.reserve_limit().into();
    Ok(Json(shown))
}

/// `GET /v1/tenants/{id}/pool`: the pooled endpoint's settings.
async fn pool(State(api): State<Arc<Api>>, _: Caller, id: PathId) -> Result<Json<serde_json::Value>, Problem> {
    pool_document(api.platform.pool_settings(&path_id(id)?)?)
}

/// The body of `PATCH /v1/tenants/{id}/pool`: what `pgs pool` changes (absent: kept).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PoolBody {
    mode: Option<crate::state::PoolMode>,
    size: Option<u32>,
    max_clients: Option<u32>,
    queue_timeout_secs: Option<u64>,
    server_idle_timeout_secs: Option<u64>,
    reserve: Option<u32>,
    #[serde(default)]
    reset: bool,
}

/// `PATCH /v1/tenants/{id}/pool`: as `pgs pool ID --mode ... --size ...` (or `--reset`).
async fn set_pool(
    State(api): State<Arc<Api>>,
    _: Writer,
    id: PathId,
    body: Body<PoolBody>,
) -> Result<Json<serde_json::Value>, Problem> {
    let id = path_id(id)?;
    let Json(b) = body.map_err(Problem::from_rejection)?;
    let change = crate::platform::PoolChange {
        mode: b.mode,
        size: b.size,
        max_clients: b.max_clients,
        queue_timeout_secs: b.queue_timeout_secs,
        server_idle_timeout_secs: b.server_idle_timeout_secs,
        reserve: b.reserve,
        reset: b.reset,
    };
    let settings = api.platform.set_pool(&id, &change)?;
    api.platform.tell_nodes().await?;
    pool_document(settings)
}

/// The body of `POST /v1/tenants/{id}/allow` and `/deny`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NetworksBody {
    /// Client networks (CIDR, or single addresses).
    networks: Vec<String>,
}

/// `POST /v1/tenants/{id}/allow` with `{"networks": [...]}`: as `pgs allow`.
async fn allow(
    State(api): State<Arc<Api>>,
    _: Writer,
    id: PathId,
    body: Body<NetworksBody>,
) -> Result<Json<serde_json::Value>, Problem> {
    change_allowlist(&api, id, body, true).await
}

/// `POST /v1/tenants/{id}/deny` with `{"networks": [...]}`: as `pgs deny`.
async fn deny(
    State(api): State<Arc<Api>>,
    _: Writer,
    id: PathId,
    body: Body<NetworksBody>,
) -> Result<Json<serde_json::Value>, Problem> {
    change_allowlist(&api, id, body, false).await
}

async fn change_allowlist(
    api: &Api,
    id: PathId,
    body: Body<NetworksBody>,
    add: bool,
) -> Result<Json<serde_json::Value>, Problem> {
    let id = path_id(id)?;
    let Json(b) = body.map_err(Problem::from_rejection)?;
    if b.networks.is_empty() || b.networks.len() > 1000 {
        return Err(Problem::new(axum::http::StatusCode::BAD_REQUEST, "networks: 1 to 1000 CIDRs"));
    }
    let list = api.platform.set_allow(&id, &b.networks, add)?;
    api.platform.tell_nodes().await?;
    Ok(Json(serde_json::json!({"id": id, "allow": list})))
}

impl Api {
    /// The platform the API drives.
    pub fn platform(&self) -> &Platform {
        &self.platform
    }
}
