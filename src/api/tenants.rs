//! `/v1/tenants`: the tenant verbs, as the CLI's `pgs create|list|info|start|stop|remove|
//! recreate`, access (`enable-access`, `allow`, ...), `pgs pool` and scale to zero. `create` is
//! a job ([`super::jobs`]); the others answer when done.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{Caller, Writer};
use super::jobs::{JobView, accepted};
use super::problem::{Problem, ProblemDocument};
use super::{Api, Body, OptionalBody, PathId, Query, body, outcome, path_id, query};
use crate::platform::{CreateRequest, PoolChange, PoolView, TenantInfo};
use crate::state::{Durability, PoolMode, TenantId};

/// How long `create`, `start` and `recreate` wait for the database by default (as the CLI).
const READY_TIMEOUT: Duration = Duration::from_secs(180);

/// The routes of `/v1/tenants`.
pub fn routes() -> OpenApiRouter<Arc<Api>> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(info, remove))
        .routes(routes!(start))
        .routes(routes!(stop))
        .routes(routes!(recreate))
        .routes(routes!(suspend))
        .routes(routes!(suspend_policy))
        .routes(routes!(set_access))
        .routes(routes!(allow))
        .routes(routes!(deny))
        .routes(routes!(pool, set_pool))
}

/// The tenant id of a path, validated.
pub(super) fn tenant_id(id: PathId) -> Result<TenantId, Problem> {
    TenantId::parse(&path_id(id)?).map_err(|e| Problem::from(crate::platform::Error::from(e)))
}

/// `GET /v1/tenants`: every tenant, as `pgs list --json`.
#[utoipa::path(get, path = "/v1/tenants", tag = "tenants", responses((status = 200, body = Vec<TenantInfo>)))]
pub async fn list(State(api): State<Arc<Api>>, _: Caller) -> Result<Json<Vec<TenantInfo>>, Problem> {
    Ok(Json(api.platform.list(&api.docker).await?))
}

/// The body of `POST /v1/tenants`: the flags of `pgs create`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    /// Tenant id: lowercase letters, digits and dashes.
    pub id: String,
    /// Memory limit (`512m`, `2g`); PostgreSQL's settings are sized to it.
    pub memory: Option<String>,
    /// CPU limit.
    pub cpus: Option<f64>,
    /// Image (default: the installation's).
    pub image: Option<String>,
    /// Create with access disabled.
    #[serde(default)]
    pub no_access: bool,
    /// Suspend after this long without clients (`15m`).
    pub suspend_after: Option<String>,
    /// PostgreSQL settings over the derived ones.
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
    /// The node to make it on (with a swarm).
    pub node: Option<String>,
    /// Let the container connect out.
    #[serde(default)]
    pub egress: bool,
    /// A synchronous standby on another node.
    #[serde(default)]
    pub ha: bool,
    /// The standby's node (with `ha`).
    pub standby_node: Option<String>,
    /// What a commit of an HA tenant waits for (with `ha`).
    pub durability: Option<Durability>,
}

/// An operator's size or duration, or the 400 it is.
pub(super) fn parsed<T>(
    what: &str,
    v: Option<&str>,
    parse: fn(&str) -> Result<T, String>,
) -> Result<Option<T>, Problem> {
    v.map(parse).transpose().map_err(|e| Problem::new(StatusCode::BAD_REQUEST, format!("{what}: {e}")))
}

/// PostgreSQL settings of a body (names checked as the CLI's `--pg-setting`), or the 400 they are.
pub(super) fn pg_settings(given: &BTreeMap<String, String>) -> Result<BTreeMap<String, String>, Problem> {
    if given.len() > 200 {
        return Err(Problem::new(StatusCode::BAD_REQUEST, "settings: at most 200"));
    }
    given
        .iter()
        .map(|(k, v)| crate::state::settings::parse_setting(&format!("{k}={v}")))
        .collect::<Result<_, _>>()
        .map_err(|e| Problem::new(StatusCode::BAD_REQUEST, format!("settings: {e}")))
}

/// `POST /v1/tenants`: `pgs create` as a job; its result is `pgs create --json` (with the
/// connection strings and password, once).
#[utoipa::path(post, path = "/v1/tenants", tag = "tenants", request_body = CreateBody,
    responses((status = 202, body = JobView, description = "the job; its result is the TenantInfo with the password"),
        (status = 400, body = ProblemDocument), (status = 409, body = ProblemDocument)))]
pub async fn create(State(api): State<Arc<Api>>, _: Writer, b: Body<CreateBody>) -> Result<Response, Problem> {
    Ok(accepted(start_create(&api, body(b)?)?.as_ref()))
}

/// Checks a create request and starts it as a job (the API's and the console's).
pub(super) fn start_create(api: &Arc<Api>, b: CreateBody) -> Result<Arc<super::jobs::Job>, Problem> {
    let id = TenantId::parse(&b.id).map_err(|e| Problem::from(crate::platform::Error::from(e)))?;
    let settings = pg_settings(&b.settings)?;
    if !b.ha && (b.standby_node.is_some() || b.durability.is_some()) {
        return Err(Problem::new(StatusCode::BAD_REQUEST, "standby_node and durability go with \"ha\": true"));
    }
    let req = CreateRequest {
        id: id.to_string(),
        password: None,
        image: b.image,
        memory: parsed("memory", b.memory.as_deref(), crate::state::units::parse_size)?,
        cpus: b.cpus,
        no_access: b.no_access,
        adopt: false,
        timeout: READY_TIMEOUT,
        clone_of: None,
        suspend_after: parsed("suspend_after", b.suspend_after.as_deref(), crate::state::units::parse_duration)?,
        settings,
        node: b.node,
        egress: b.egress,
        ha: b.ha.then(|| crate::platform::create::HaRequest {
            standby_node: b.standby_node,
            durability: b.durability.unwrap_or_default(),
        }),
    };
    let worker = api.clone();
    Ok(api.jobs.start("create", id.as_str(), async move { outcome(worker.platform.create(&worker.docker, req).await) }))
}

/// The query of `GET /v1/tenants/{id}`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct InfoQuery {
    /// Show the password and connection strings (a read-write token only).
    #[serde(default)]
    pub show_password: bool,
}

/// `GET /v1/tenants/{id}`: as `pgs info ID --json`; the password only with `show_password=true`
/// and a read-write token.
#[utoipa::path(get, path = "/v1/tenants/{id}", tag = "tenants", params(("id" = String, Path), InfoQuery),
    responses((status = 200, body = TenantInfo), (status = 404, body = ProblemDocument)))]
pub async fn info(
    State(api): State<Arc<Api>>,
    Caller(token): Caller,
    id: PathId,
    q: Query<InfoQuery>,
) -> Result<Json<TenantInfo>, Problem> {
    let id = tenant_id(id)?;
    let q = query(q)?;
    if q.show_password && token.access != crate::platform::tokens::Access::ReadWrite {
        return Err(Problem::new(
            StatusCode::FORBIDDEN,
            format!("token {} is read-only: it cannot see passwords", token.name),
        ));
    }
    Ok(Json(api.platform.info(&api.docker, id.as_str(), q.show_password).await?))
}

/// The query of `DELETE /v1/tenants/{id}`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RemoveQuery {
    /// Delete its data volume and passwords too.
    #[serde(default)]
    pub purge: bool,
    /// Delete its backups too (nothing could restore it afterwards).
    #[serde(default)]
    pub purge_backups: bool,
}

/// `DELETE /v1/tenants/{id}`: as `pgs remove ID --yes` (the data volume is kept unless
/// `purge=true`).
#[utoipa::path(delete, path = "/v1/tenants/{id}", tag = "tenants", params(("id" = String, Path), RemoveQuery),
    responses((status = 200, description = "removed"), (status = 404, body = ProblemDocument)))]
pub async fn remove(
    State(api): State<Arc<Api>>,
    _: Writer,
    id: PathId,
    q: Query<RemoveQuery>,
) -> Result<Json<Value>, Problem> {
    let id = tenant_id(id)?;
    let q = query(q)?;
    api.platform.remove(&api.docker, id.as_str(), q.purge, q.purge_backups).await?;
    Ok(Json(json!({"id": id, "removed": true, "data_kept": !q.purge, "backups_kept": !q.purge_backups})))
}

/// `POST /v1/tenants/{id}/start`: as `pgs start ID` (waits until it accepts connections).
#[utoipa::path(post, path = "/v1/tenants/{id}/start", tag = "tenants", params(("id" = String, Path)),
    responses((status = 200, description = "started"), (status = 404, body = ProblemDocument)))]
pub async fn start(State(api): State<Arc<Api>>, _: Writer, id: PathId) -> Result<Json<Value>, Problem> {
    let id = tenant_id(id)?;
    api.platform.start(&api.docker, Some(id.as_str()), READY_TIMEOUT).await?;
    Ok(Json(json!({"id": id, "status": "running"})))
}

/// `POST /v1/tenants/{id}/stop`: as `pgs stop ID`.
#[utoipa::path(post, path = "/v1/tenants/{id}/stop", tag = "tenants", params(("id" = String, Path)),
    responses((status = 200, description = "stopped"), (status = 404, body = ProblemDocument)))]
pub async fn stop(State(api): State<Arc<Api>>, _: Writer, id: PathId) -> Result<Json<Value>, Problem> {
    let id = tenant_id(id)?;
    api.platform.stop(&api.docker, Some(id.as_str())).await?;
    Ok(Json(json!({"id": id, "status": "stopped"})))
}

/// `POST /v1/tenants/{id}/recreate`: as `pgs recreate ID` (same data, new container).
#[utoipa::path(post, path = "/v1/tenants/{id}/recreate", tag = "tenants", params(("id" = String, Path)),
    responses((status = 200, description = "recreated"), (status = 404, body = ProblemDocument)))]
pub async fn recreate(State(api): State<Arc<Api>>, _: Writer, id: PathId) -> Result<Json<Value>, Problem> {
    let id = tenant_id(id)?;
    api.platform.recreate_containers(&api.docker, Some(id.as_str()), READY_TIMEOUT).await?;
    Ok(Json(json!({"id": id, "status": "running"})))
}

/// The body of `POST /v1/tenants/{id}/suspend`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuspendBody {
    /// Close open client sessions instead of refusing.
    #[serde(default)]
    pub force: bool,
}

/// `POST /v1/tenants/{id}/suspend`: as `pgs suspend ID` (409 while clients are connected,
/// unless `force`).
#[utoipa::path(post, path = "/v1/tenants/{id}/suspend", tag = "tenants", params(("id" = String, Path)),
    request_body(content = Option<SuspendBody>),
    responses((status = 200, description = "suspended"), (status = 409, body = ProblemDocument)))]
pub async fn suspend(
    State(api): State<Arc<Api>>,
    _: Writer,
    id: PathId,
    b: OptionalBody<SuspendBody>,
) -> Result<Json<Value>, Problem> {
    let id = tenant_id(id)?;
    let force = b.is_some_and(|Json(b)| b.force);
    if !api.platform.suspend(&api.docker, &id, force).await? {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            format!("tenant {id} has open client sessions: not suspended (\"force\": true closes them)"),
        ));
    }
    Ok(Json(json!({"id": id, "status": "suspended"})))
}

/// The body of `PUT /v1/tenants/{id}/suspend-policy`: `{"after": "15m"}` or `{"never": true}`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuspendPolicyBody {
    /// Suspend after this long without clients (`90s`, `15m`, `2h`).
    pub after: Option<String>,
    /// Never suspend.
    #[serde(default)]
    pub never: bool,
}

/// `PUT /v1/tenants/{id}/suspend-policy`: as `pgs suspend-policy ID --after D | --never`.
#[utoipa::path(put, path = "/v1/tenants/{id}/suspend-policy", tag = "tenants", params(("id" = String, Path)),
    request_body = SuspendPolicyBody,
    responses((status = 200, description = "the policy in force"), (status = 400, body = ProblemDocument)))]
pub async fn suspend_policy(
    State(api): State<Arc<Api>>,
    _: Writer,
    id: PathId,
    b: Body<SuspendPolicyBody>,
) -> Result<Json<Value>, Problem> {
    let id = tenant_id(id)?;
    let b = body(b)?;
    let after = match (b.after.as_deref(), b.never) {
        (Some(after), false) => parsed("after", Some(after), crate::state::units::parse_duration)?,
        (None, true) => None,
        _ => return Err(Problem::new(StatusCode::BAD_REQUEST, "give either \"after\" or \"never\": true")),
    };
    api.platform.set_suspend_policy(id.as_str(), after).await?;
    Ok(Json(json!({"id": id, "suspend_after_secs": after})))
}

/// The body of `PUT /v1/tenants/{id}/access`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessBody {
    /// Whether the gateway admits the tenant's clients.
    pub access: bool,
}

/// `PUT /v1/tenants/{id}/access` with `{"access": true|false}`: as `pgs enable-access` /
/// `disable-access`.
#[utoipa::path(put, path = "/v1/tenants/{id}/access", tag = "tenants", params(("id" = String, Path)),
    request_body = AccessBody,
    responses((status = 200, description = "the access in force"), (status = 404, body = ProblemDocument)))]
pub async fn set_access(
    State(api): State<Arc<Api>>,
    _: Writer,
    id: PathId,
    b: Body<AccessBody>,
) -> Result<Json<Value>, Problem> {
    let id = tenant_id(id)?;
    let b = body(b)?;
    api.platform.set_access(id.as_str(), b.access).await?;
    Ok(Json(json!({"id": id, "access": b.access})))
}

/// The body of `POST /v1/tenants/{id}/allow` and `/deny`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NetworksBody {
    /// Client networks (CIDR, or single addresses), 1 to 1000.
    pub networks: Vec<String>,
}

/// `POST /v1/tenants/{id}/allow` with `{"networks": [...]}`: as `pgs allow`.
#[utoipa::path(post, path = "/v1/tenants/{id}/allow", tag = "tenants", params(("id" = String, Path)),
    request_body = NetworksBody,
    responses((status = 200, description = "the allowlist in force"), (status = 400, body = ProblemDocument)))]
pub async fn allow(
    State(api): State<Arc<Api>>,
    _: Writer,
    id: PathId,
    b: Body<NetworksBody>,
) -> Result<Json<Value>, Problem> {
    change_allowlist(&api, id, b, true).await
}

/// `POST /v1/tenants/{id}/deny` with `{"networks": [...]}`: as `pgs deny`.
#[utoipa::path(post, path = "/v1/tenants/{id}/deny", tag = "tenants", params(("id" = String, Path)),
    request_body = NetworksBody,
    responses((status = 200, description = "the allowlist in force"), (status = 400, body = ProblemDocument)))]
pub async fn deny(
    State(api): State<Arc<Api>>,
    _: Writer,
    id: PathId,
    b: Body<NetworksBody>,
) -> Result<Json<Value>, Problem> {
    change_allowlist(&api, id, b, false).await
}

/// Adds (`add`) or removes the body's networks.
async fn change_allowlist(api: &Api, id: PathId, b: Body<NetworksBody>, add: bool) -> Result<Json<Value>, Problem> {
    let id = tenant_id(id)?;
    let b = body(b)?;
    if b.networks.is_empty() || b.networks.len() > 1000 {
        return Err(Problem::new(StatusCode::BAD_REQUEST, "networks: 1 to 1000 CIDRs"));
    }
    let list = api.platform.set_allow(id.as_str(), &b.networks, add).await?;
    Ok(Json(json!({"id": id, "allow": list})))
}

/// `GET /v1/tenants/{id}/pool`: the pooled endpoint's settings, as `pgs pool ID --json`.
#[utoipa::path(get, path = "/v1/tenants/{id}/pool", tag = "tenants", params(("id" = String, Path)),
    responses((status = 200, body = PoolView), (status = 404, body = ProblemDocument)))]
pub async fn pool(State(api): State<Arc<Api>>, _: Caller, id: PathId) -> Result<Json<PoolView>, Problem> {
    Ok(Json(api.platform.pool_settings(tenant_id(id)?.as_str())?))
}

/// The body of `PATCH /v1/tenants/{id}/pool`: what `pgs pool` changes (absent: kept).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PoolBody {
    /// `auto`, `transaction` or `session`.
    pub mode: Option<PoolMode>,
    /// Server connections per role and database.
    pub size: Option<u32>,
    /// Pooled clients at once.
    pub max_clients: Option<u32>,
    /// Seconds a client waits for a server connection.
    pub queue_timeout_secs: Option<u64>,
    /// Seconds an unused server connection is kept.
    pub server_idle_timeout_secs: Option<u64>,
    /// Connections `auto` mode may reserve.
    pub reserve: Option<u32>,
    /// Back to the derived settings (alone).
    #[serde(default)]
    pub reset: bool,
}

/// `PATCH /v1/tenants/{id}/pool`: as `pgs pool ID --mode ... --size ...` (or `--reset`).
#[utoipa::path(patch, path = "/v1/tenants/{id}/pool", tag = "tenants", params(("id" = String, Path)),
    request_body = PoolBody,
    responses((status = 200, body = PoolView), (status = 400, body = ProblemDocument)))]
pub async fn set_pool(
    State(api): State<Arc<Api>>,
    _: Writer,
    id: PathId,
    b: Body<PoolBody>,
) -> Result<Json<PoolView>, Problem> {
    let id = tenant_id(id)?;
    let b = body(b)?;
    let change = PoolChange {
        mode: b.mode,
        size: b.size,
        max_clients: b.max_clients,
        queue_timeout_secs: b.queue_timeout_secs,
        server_idle_timeout_secs: b.server_idle_timeout_secs,
        reserve: b.reserve,
        reset: b.reset,
    };
    Ok(Json(api.platform.set_pool(id.as_str(), &change).await?))
}
