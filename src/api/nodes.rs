//! The installation's hosts: nodes (`pgs node list|add|sync`), `pgs move` (a job), the managed
//! gateway's status, and HA (`pgs ha status`, `pgs switchover`).

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{Caller, Writer};
use super::jobs::{JobView, accepted};
use super::problem::{Problem, ProblemDocument};
use super::tenants::tenant_id;
use super::{Api, Body, OptionalBody, PathId, body, outcome, path_id};
use crate::platform::gateway::GatewayStatus;
use crate::platform::ha::{HaStatus, SwitchoverReport};
use crate::platform::nodes::NodeInfo;

/// How long a move waits for the tenant on its new node (as the CLI).
const MOVE_TIMEOUT: Duration = Duration::from_secs(600);

/// The routes of nodes, moves, the gateway and HA.
pub fn routes() -> OpenApiRouter<Arc<Api>> {
    OpenApiRouter::new()
        .routes(routes!(list, add))
        .routes(routes!(sync_all))
        .routes(routes!(sync))
        .routes(routes!(move_tenant))
        .routes(routes!(gateway))
        .routes(routes!(ha))
        .routes(routes!(switchover))
}

/// `GET /v1/nodes`: as `pgs node list --json`.
#[utoipa::path(get, path = "/v1/nodes", tag = "nodes", responses((status = 200, body = Vec<NodeInfo>), (status = 400, body = ProblemDocument)))]
pub async fn list(State(api): State<Arc<Api>>, _: Caller) -> Result<Json<Vec<NodeInfo>>, Problem> {
    Ok(Json(api.platform.node_list(&api.docker).await?))
}

/// The body of `POST /v1/nodes`: `pgs node add NAME --docker-host URL`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddBody {
    /// The node's name.
    pub name: String,
    /// Its Docker engine's API (`tcp://10.0.0.2:2375`).
    pub docker_host: String,
    /// The address it advertises to the swarm (default: from its engine).
    pub address: Option<String>,
    /// Its state dir on that host.
    pub data_dir: Option<String>,
}

/// `POST /v1/nodes`: `pgs node add` as a job; its result is the node.
#[utoipa::path(post, path = "/v1/nodes", tag = "nodes", request_body = AddBody,
    responses((status = 202, body = JobView), (status = 400, body = ProblemDocument)))]
pub async fn add(State(api): State<Arc<Api>>, _: Writer, b: Body<AddBody>) -> Result<Response, Problem> {
    let b = body(b)?;
    let worker = api.clone();
    let name = b.name.clone();
    let job = api.jobs.start("node-add", &name, async move {
        let added = worker
            .platform
            .node_add(&worker.docker, &b.name, &b.docker_host, b.address.as_deref(), b.data_dir.as_deref())
            .await;
        outcome(added)
    });
    Ok(accepted(&job))
}

/// `POST /v1/nodes/sync`: as `pgs node sync` (every node's gateway brought up to date).
#[utoipa::path(post, path = "/v1/nodes/sync", tag = "nodes",
    responses((status = 200, description = "the nodes brought up to date"), (status = 500, body = ProblemDocument)))]
pub async fn sync_all(State(api): State<Arc<Api>>, _: Writer) -> Result<Json<Value>, Problem> {
    Ok(Json(json!({"synced": api.platform.node_sync(&api.docker, None).await?})))
}

/// `POST /v1/nodes/{name}/sync`: as `pgs node sync NAME`.
#[utoipa::path(post, path = "/v1/nodes/{name}/sync", tag = "nodes", params(("name" = String, Path)),
    responses((status = 200, description = "the node brought up to date"), (status = 404, body = ProblemDocument)))]
pub async fn sync(State(api): State<Arc<Api>>, _: Writer, name: PathId) -> Result<Json<Value>, Problem> {
    let name = path_id(name)?;
    Ok(Json(json!({"synced": api.platform.node_sync(&api.docker, Some(&name)).await?})))
}

/// The body of `POST /v1/tenants/{id}/move`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveBody {
    /// The node to move it to.
    pub to: String,
    /// Keep its data volume on the old node.
    #[serde(default)]
    pub keep_source: bool,
}

/// `POST /v1/tenants/{id}/move`: `pgs move ID --to NODE --yes` as a job; its result is the
/// report (downtime, bytes copied).
#[utoipa::path(post, path = "/v1/tenants/{id}/move", tag = "nodes", params(("id" = String, Path)), request_body = MoveBody,
    responses((status = 202, body = JobView), (status = 400, body = ProblemDocument)))]
pub async fn move_tenant(
    State(api): State<Arc<Api>>,
    _: Writer,
    id: PathId,
    b: Body<MoveBody>,
) -> Result<Response, Problem> {
    let id = tenant_id(id)?;
    let b = body(b)?;
    // The plan is checked now: a move that cannot start is a 4xx, not a failed job.
    let plan = api.platform.plan_move(&api.docker, id.as_str(), &b.to).await?;
    let worker = api.clone();
    let job = api.jobs.start("move", id.as_str(), async move {
        crate::progress::note(&plan.describe());
        outcome(worker.platform.move_tenant(&worker.docker, &plan, b.keep_source, MOVE_TIMEOUT).await)
    });
    Ok(accepted(&job))
}

/// `GET /v1/gateway`: as `pgs gateway status --json`.
#[utoipa::path(get, path = "/v1/gateway", tag = "nodes", responses((status = 200, body = GatewayStatus)))]
pub async fn gateway(State(api): State<Arc<Api>>, _: Caller) -> Result<Json<GatewayStatus>, Problem> {
    Ok(Json(api.platform.gateway_status(&api.docker).await?))
}

/// `GET /v1/tenants/{id}/ha`: as `pgs ha status ID --json`.
#[utoipa::path(get, path = "/v1/tenants/{id}/ha", tag = "nodes", params(("id" = String, Path)),
    responses((status = 200, body = HaStatus), (status = 404, body = ProblemDocument)))]
pub async fn ha(State(api): State<Arc<Api>>, _: Caller, id: PathId) -> Result<Json<HaStatus>, Problem> {
    let id = tenant_id(id)?;
    let status = api.platform.ha_status(Some(id.as_str())).await?;
    status.into_iter().next().map(Json).ok_or_else(|| Problem::not_found(format!("{id} has no standby (HA is off)")))
}

/// The body of `POST /v1/tenants/{id}/switchover`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SwitchoverBody {
    /// The node to make primary (default: the standby's).
    pub to: Option<String>,
}

/// `POST /v1/tenants/{id}/switchover`: as `pgs switchover ID`.
#[utoipa::path(post, path = "/v1/tenants/{id}/switchover", tag = "nodes", params(("id" = String, Path)),
    request_body(content = Option<SwitchoverBody>),
    responses((status = 200, body = SwitchoverReport), (status = 409, body = ProblemDocument)))]
pub async fn switchover(
    State(api): State<Arc<Api>>,
    _: Writer,
    id: PathId,
    b: OptionalBody<SwitchoverBody>,
) -> Result<Json<SwitchoverReport>, Problem> {
    let id = tenant_id(id)?;
    let to = b.and_then(|Json(b)| b.to);
    Ok(Json(api.platform.switchover(id.as_str(), to.as_deref()).await?))
}
