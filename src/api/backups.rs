//! A tenant's backups (`pgs backup list|run|verify`), `pgs restore` and `pgs clone`. All but the
//! list are jobs ([`super::jobs`]).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{Caller, Writer};
use super::jobs::{Job, JobView, accepted};
use super::problem::{Problem, ProblemDocument};
use super::tenants::{parsed, pg_settings, tenant_id};
use super::{Api, Body, OptionalBody, PathId, body, outcome};
use crate::backup::{Kind, Repository, Target};
use crate::platform::CreateRequest;
use crate::state::TenantId;

/// How long a restore or clone waits for the database by default (as the CLI).
const RESTORE_TIMEOUT: Duration = Duration::from_secs(600);

/// The routes of a tenant's backups.
pub fn routes() -> OpenApiRouter<Arc<Api>> {
    OpenApiRouter::new()
        .routes(routes!(list, run))
        .routes(routes!(verify))
        .routes(routes!(restore))
        .routes(routes!(clone))
}

/// The restore target a body names, or the 400 it is.
fn target(at: Option<&str>, backup: Option<&str>) -> Result<Target, Problem> {
    Target::named(at, backup).map_err(|e| Problem::from(crate::platform::Error::from(e)))
}

/// `GET /v1/tenants/{id}/backups`: as `pgs backup list ID --json`.
#[utoipa::path(get, path = "/v1/tenants/{id}/backups", tag = "backups", params(("id" = String, Path)),
    responses((status = 200, body = Repository), (status = 404, body = ProblemDocument)))]
pub async fn list(State(api): State<Arc<Api>>, _: Caller, id: PathId) -> Result<Json<Repository>, Problem> {
    Ok(Json(api.platform.backup_list(&api.docker, tenant_id(id)?.as_str()).await?))
}

/// The body of `POST /v1/tenants/{id}/backups`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunBody {
    /// `full`, `diff` or `incr` (default: full).
    pub kind: Option<Kind>,
}

/// `POST /v1/tenants/{id}/backups`: `pgs backup run ID` as a job; its result is the backup.
#[utoipa::path(post, path = "/v1/tenants/{id}/backups", tag = "backups", params(("id" = String, Path)),
    request_body(content = Option<RunBody>),
    responses((status = 202, body = JobView), (status = 404, body = ProblemDocument)))]
pub async fn run(
    State(api): State<Arc<Api>>,
    _: Writer,
    id: PathId,
    b: OptionalBody<RunBody>,
) -> Result<Response, Problem> {
    let id = tenant_id(id)?;
    let kind = b.and_then(|Json(b)| b.kind).unwrap_or(Kind::Full);
    Ok(accepted(start_backup(&api, &id, kind)?.as_ref()))
}

/// Starts a backup of `id` as a job (the API's and the console's).
pub(super) fn start_backup(api: &Arc<Api>, id: &TenantId, kind: Kind) -> Result<Arc<Job>, Problem> {
    api.platform.known_tenant(id.as_str())?;
    let (worker, id) = (api.clone(), id.clone());
    Ok(api.jobs.start("backup", &id.to_string(), async move {
        outcome(worker.platform.backup_run(&worker.docker, id.as_str(), kind).await)
    }))
}

/// The body of `POST /v1/tenants/{id}/backups/verify`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyBody {
    /// Recover to this time (RFC 3339) instead of the end of the latest backup.
    pub at: Option<String>,
}

/// `POST /v1/tenants/{id}/backups/verify`: the restore drill `pgs backup verify ID` as a job; its
/// result is the drill, and a drill that fails fails the job.
#[utoipa::path(post, path = "/v1/tenants/{id}/backups/verify", tag = "backups", params(("id" = String, Path)),
    request_body(content = Option<VerifyBody>),
    responses((status = 202, body = JobView), (status = 404, body = ProblemDocument)))]
pub async fn verify(
    State(api): State<Arc<Api>>,
    _: Writer,
    id: PathId,
    b: OptionalBody<VerifyBody>,
) -> Result<Response, Problem> {
    let id = tenant_id(id)?;
    let at = b.and_then(|Json(b)| b.at).map(|at| target(Some(&at), None)).transpose()?;
    Ok(accepted(start_verify(&api, &id, at)?.as_ref()))
}

/// Starts a restore drill of `id` as a job; a drill that fails fails the job.
pub(super) fn start_verify(api: &Arc<Api>, id: &TenantId, at: Option<Target>) -> Result<Arc<Job>, Problem> {
    api.platform.known_tenant(id.as_str())?;
    let (worker, id) = (api.clone(), id.clone());
    Ok(api.jobs.start("verify", &id.to_string(), async move {
        let drill = worker.platform.backup_verify(&worker.docker, id.as_str(), at).await?;
        if let Some(e) = &drill.error {
            return Err(Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the restore drill for {id} FAILED after {}s: {e}", drill.seconds),
            ));
        }
        outcome(Ok(drill))
    }))
}

/// The body of `POST /v1/tenants/{id}/restore` and the target part of a clone: `at` or
/// `backup`, or neither for the latest archived state.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestoreBody {
    /// Recover everything committed before this time (RFC 3339).
    pub at: Option<String>,
    /// Recover to this backup's consistent point (its label).
    pub backup: Option<String>,
}

/// `POST /v1/tenants/{id}/restore`: `pgs restore ID --yes` as a job; its result is the report
/// (the volume it runs on now, and the one its previous data is kept in).
#[utoipa::path(post, path = "/v1/tenants/{id}/restore", tag = "backups", params(("id" = String, Path)),
    request_body(content = Option<RestoreBody>),
    responses((status = 202, body = JobView), (status = 400, body = ProblemDocument)))]
pub async fn restore(
    State(api): State<Arc<Api>>,
    _: Writer,
    id: PathId,
    b: OptionalBody<RestoreBody>,
) -> Result<Response, Problem> {
    let id = tenant_id(id)?;
    let b = b.map(|Json(b)| b).unwrap_or_default();
    Ok(accepted(start_restore(&api, &id, b.at.as_deref(), b.backup.as_deref())?.as_ref()))
}

/// Starts a restore of `id` as a job.
pub(super) fn start_restore(
    api: &Arc<Api>,
    id: &TenantId,
    at: Option<&str>,
    backup: Option<&str>,
) -> Result<Arc<Job>, Problem> {
    api.platform.known_tenant(id.as_str())?;
    let target = target(at, backup)?;
    let (worker, id) = (api.clone(), id.clone());
    Ok(api.jobs.start("restore", &id.to_string(), async move {
        outcome(worker.platform.restore(&worker.docker, id.as_str(), &target, RESTORE_TIMEOUT).await)
    }))
}

/// The body of `POST /v1/tenants/{id}/clone`: `pgs clone ID NEW` and its flags.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloneBody {
    /// The new tenant's id.
    pub new: String,
    /// Copy the data as of this time (RFC 3339).
    pub at: Option<String>,
    /// Copy the data of this backup (its label).
    pub backup: Option<String>,
    /// Memory limit of the copy (`512m`).
    pub memory: Option<String>,
    /// CPU limit of the copy.
    pub cpus: Option<f64>,
    /// Create the copy with access disabled.
    #[serde(default)]
    pub no_access: bool,
    /// PostgreSQL settings of the copy.
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
}

/// `POST /v1/tenants/{id}/clone`: `pgs clone ID NEW` as a job; its result is the new tenant
/// with its own credentials, as `pgs clone --json`.
#[utoipa::path(post, path = "/v1/tenants/{id}/clone", tag = "backups", params(("id" = String, Path)),
    request_body = CloneBody,
    responses((status = 202, body = JobView), (status = 400, body = ProblemDocument)))]
pub async fn clone(
    State(api): State<Arc<Api>>,
    _: Writer,
    id: PathId,
    b: Body<CloneBody>,
) -> Result<Response, Problem> {
    let source = tenant_id(id)?;
    Ok(accepted(start_clone(&api, &source, body(b)?)?.as_ref()))
}

/// Starts a clone of `source` as a job.
pub(super) fn start_clone(api: &Arc<Api>, source: &TenantId, b: CloneBody) -> Result<Arc<Job>, Problem> {
    api.platform.known_tenant(source.as_str())?;
    let new = TenantId::parse(&b.new).map_err(|e| Problem::from(crate::platform::Error::from(e)))?;
    let req = CreateRequest {
        id: new.to_string(),
        password: None,
        image: None,
        memory: parsed("memory", b.memory.as_deref(), crate::state::units::parse_size)?,
        cpus: b.cpus,
        no_access: b.no_access,
        adopt: false,
        timeout: RESTORE_TIMEOUT,
        clone_of: Some((source.to_string(), target(b.at.as_deref(), b.backup.as_deref())?)),
        suspend_after: None,
        settings: pg_settings(&b.settings)?,
        node: None,
        egress: false,
        ha: None,
    };
    let worker = api.clone();
    Ok(api.jobs.start("clone", new.as_str(), async move { outcome(worker.platform.create(&worker.docker, req).await) }))
}
