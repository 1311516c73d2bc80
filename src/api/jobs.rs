//! Long operations (create, clone, restore, backup, drill, move, node add) as jobs: the request
//! returns `202 Accepted` with the job at once; the work goes on in a task of its own, so a client
//! that goes away does not stop it. Its progress comes from the same sink calls the CLI renders as
//! spinners ([`crate::progress`], scoped to the job), kept in the job and streamed as server-sent
//! events (`GET /v1/jobs/{id}/events`); its outcome (the CLI's `--json` document, or a problem)
//! is kept for [`KEEP`] after it ends.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tokio::sync::broadcast;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::Caller;
use super::problem::Problem;
use super::{Api, PathId, path_id};
use crate::progress::{Sink, Step};

/// How long a finished job's outcome is kept.
pub const KEEP: Duration = Duration::from_secs(3600);
/// At most this many finished jobs are kept (the oldest go first).
const MAX_FINISHED: usize = 500;
/// At most this many progress events are kept per job (the end is always kept).
const MAX_EVENTS: usize = 1000;

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Still working.
    Running,
    /// Done; `result` holds what the CLI's `--json` prints.
    Succeeded,
    /// Failed; `error` says why.
    Failed,
}

/// One line of a job's progress.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct JobEvent {
    /// Position in the job's log, from 0.
    pub seq: usize,
    /// Unix time.
    pub at: u64,
    /// `note`, `step` (something that takes a while began), `transfer` (bytes moved so far of
    /// `total`), or `end`.
    pub kind: &'static str,
    /// What the CLI would show.
    pub message: String,
    /// Bytes moved so far (`transfer`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub done: Option<u64>,
    /// Bytes in all, when known (`transfer`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
}

/// Why a job failed: the problem document a synchronous request would have had.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct JobError {
    /// The HTTP status the failure maps to.
    pub status: u16,
    /// The CLI's message.
    pub detail: String,
}

/// A job as `GET /v1/jobs/{id}` shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct JobView {
    /// Job id.
    pub id: String,
    /// The verb: `create`, `clone`, `restore`, `backup`, `verify`, `move`, `node-add`.
    pub kind: &'static str,
    /// The tenant (or node) it works on.
    pub target: String,
    /// Where it is.
    pub status: JobStatus,
    /// Unix time it began.
    pub started_at: u64,
    /// Unix time it ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<u64>,
    /// What the CLI's `--json` prints for the verb (once succeeded).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<JobError>,
    /// Its progress so far.
    pub events: Vec<JobEvent>,
}

/// A running or finished job.
pub struct Job {
    id: String,
    kind: &'static str,
    target: String,
    started_at: u64,
    inner: Mutex<Inner>,
    live: broadcast::Sender<JobEvent>,
}

struct Inner {
    status: JobStatus,
    events: Vec<JobEvent>,
    seq: usize,
    result: Option<serde_json::Value>,
    error: Option<JobError>,
    finished_at: Option<u64>,
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl Job {
    /// Appends a progress event and hands it to the streams following the job.
    fn push(&self, kind: &'static str, message: String, done: Option<u64>, total: Option<u64>) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let event = JobEvent { seq: inner.seq, at: now(), kind, message, done, total };
        inner.seq += 1;
        if inner.events.len() < MAX_EVENTS || kind == "end" {
            inner.events.push(event.clone());
        }
        // Sent under the lock, so that a stream that subscribed with a copy of the log sees
        // every later event exactly once.
        let _ = self.live.send(event);
    }

    /// Records the outcome, then the `end` event.
    fn finish(&self, outcome: Result<serde_json::Value, Problem>) {
        let message = {
            let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
            inner.finished_at = Some(now());
            match outcome {
                Ok(result) => {
                    inner.status = JobStatus::Succeeded;
                    inner.result = Some(result);
                    "succeeded".to_string()
                }
                Err(p) => {
                    inner.status = JobStatus::Failed;
                    let message = format!("failed: {}", p.detail);
                    inner.error = Some(JobError { status: p.status.as_u16(), detail: p.detail });
                    message
                }
            }
        };
        self.push("end", message, None, None);
    }

    /// The job as the API shows it.
    pub fn view(&self) -> JobView {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        JobView {
            id: self.id.clone(),
            kind: self.kind,
            target: self.target.clone(),
            status: inner.status,
            started_at: self.started_at,
            finished_at: inner.finished_at,
            result: inner.result.clone(),
            error: inner.error.clone(),
            events: inner.events.clone(),
        }
    }

    /// The log so far and a receiver of what follows it.
    fn follow(&self) -> (Vec<JobEvent>, broadcast::Receiver<JobEvent>) {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        (inner.events.clone(), self.live.subscribe())
    }

    fn finished_at(&self) -> Option<u64> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).finished_at
    }
}

/// A job's progress sink: what lower layers report lands in its log.
struct JobSink(Arc<Job>);

/// A byte transfer of a job: an event each tenth of the way (or each 64 MiB when the total is
/// not known).
struct Transfer {
    job: Arc<Job>,
    message: String,
    total: std::sync::atomic::AtomicU64,
    reported: std::sync::atomic::AtomicU64,
}

impl Step for Transfer {
    fn set_total(&self, total: u64) {
        self.total.store(total, std::sync::atomic::Ordering::Relaxed);
    }

    fn set_done(&self, done: u64) {
        use std::sync::atomic::Ordering::Relaxed;
        let total = self.total.load(Relaxed);
        let stride = if total > 0 { (total / 10).max(1) } else { 64 << 20 };
        let reported = self.reported.load(Relaxed);
        if done / stride > reported / stride || (total > 0 && done >= total && reported < total) {
            self.reported.store(done, Relaxed);
            self.job.push("transfer", self.message.clone(), Some(done), (total > 0).then_some(total));
        }
    }
}

impl Sink for JobSink {
    fn note(&self, msg: &str) {
        self.0.push("note", msg.to_string(), None, None);
    }

    fn step(&self, msg: &str) -> Box<dyn Step> {
        self.0.push("step", msg.to_string(), None, None);
        Box::new(crate::progress::Quiet)
    }

    fn transfer(&self, msg: &str) -> Box<dyn Step> {
        self.0.push("transfer", msg.to_string(), Some(0), None);
        Box::new(Transfer {
            job: self.0.clone(),
            message: msg.to_string(),
            total: Default::default(),
            reported: Default::default(),
        })
    }
}

/// The jobs of this API server: running ones and recently finished ones.
#[derive(Default)]
pub struct Jobs {
    table: Mutex<Table>,
    tasks: tokio_util::task::TaskTracker,
}

#[derive(Default)]
struct Table {
    next: u64,
    jobs: VecDeque<Arc<Job>>,
}

impl Jobs {
    /// Starts `work` as a job of `kind` on `target`; its progress and outcome are recorded.
    pub fn start<F>(&self, kind: &'static str, target: &str, work: F) -> Arc<Job>
    where
        F: std::future::Future<Output = Result<serde_json::Value, Problem>> + Send + 'static,
    {
        let job = {
            let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
            table.next += 1;
            let job = Arc::new(Job {
                id: format!("{}-{}", now(), table.next),
                kind,
                target: target.to_string(),
                started_at: now(),
                inner: Mutex::new(Inner {
                    status: JobStatus::Running,
                    events: Vec::new(),
                    seq: 0,
                    result: None,
                    error: None,
                    finished_at: None,
                }),
                live: broadcast::channel(256).0,
            });
            table.prune();
            table.jobs.push_back(job.clone());
            job
        };
        let sink: Arc<dyn Sink> = Arc::new(JobSink(job.clone()));
        let finisher = job.clone();
        let inner = self.tasks.spawn(crate::progress::scoped(sink, work));
        self.tasks.spawn(async move {
            let outcome = inner.await.unwrap_or_else(|e| {
                tracing::error!(job = %finisher.id, error = %e, "API job ended abnormally");
                Err(Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "the job ended abnormally: the server's log says why"))
            });
            if let Err(p) = &outcome {
                tracing::warn!(job = %finisher.id, kind = finisher.kind, target = %finisher.target, detail = %p.detail, "API job failed");
            }
            finisher.finish(outcome);
        });
        job
    }

    /// The job `id`.
    pub fn get(&self, id: &str) -> Result<Arc<Job>, Problem> {
        let table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        table
            .jobs
            .iter()
            .find(|j| j.id == id)
            .cloned()
            .ok_or_else(|| Problem::not_found(format!("no job {id:?} (finished jobs are kept for an hour)")))
    }

    /// Every job kept, newest first.
    pub fn all(&self) -> Vec<Arc<Job>> {
        let table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        table.jobs.iter().rev().cloned().collect()
    }

    /// Waits up to `timeout` for the running jobs to end (the server is stopping).
    pub async fn wait(&self, timeout: Duration) -> bool {
        self.tasks.close();
        tokio::time::timeout(timeout, self.tasks.wait()).await.is_ok()
    }
}

impl Table {
    /// Forgets finished jobs older than [`KEEP`], and the oldest beyond [`MAX_FINISHED`].
    fn prune(&mut self) {
        let cutoff = now().saturating_sub(KEEP.as_secs());
        self.jobs.retain(|j| j.finished_at().is_none_or(|t| t >= cutoff));
        let mut finished = self.jobs.iter().filter(|j| j.finished_at().is_some()).count();
        self.jobs.retain(|j| {
            if finished > MAX_FINISHED && j.finished_at().is_some() {
                finished -= 1;
                return false;
            }
            true
        });
    }
}

/// The answer to a request that started a job: `202`, its location, and the job.
pub fn accepted(job: &Job) -> Response {
    let location = format!("/v1/jobs/{}", job.id);
    (StatusCode::ACCEPTED, [(header::LOCATION, location)], Json(job.view())).into_response()
}

/// The routes of `/v1/jobs`.
pub fn routes() -> OpenApiRouter<Arc<Api>> {
    OpenApiRouter::new().routes(routes!(list)).routes(routes!(show)).routes(routes!(events))
}

/// `GET /v1/jobs`: the jobs kept, newest first (without their events).
#[utoipa::path(get, path = "/v1/jobs", tag = "jobs", responses((status = 200, body = Vec<JobView>)))]
pub async fn list(State(api): State<Arc<Api>>, _: Caller) -> Json<Vec<JobView>> {
    Json(api.jobs.all().iter().map(|j| JobView { events: Vec::new(), ..j.view() }).collect())
}

/// `GET /v1/jobs/{id}`: a job with its progress and outcome.
#[utoipa::path(get, path = "/v1/jobs/{id}", tag = "jobs", params(("id" = String, Path)),
    responses((status = 200, body = JobView), (status = 404, body = super::problem::ProblemDocument)))]
pub async fn show(State(api): State<Arc<Api>>, _: Caller, id: PathId) -> Result<Json<JobView>, Problem> {
    Ok(Json(api.jobs.get(&path_id(id)?)?.view()))
}

/// `GET /v1/jobs/{id}/events`: the job's progress as server-sent events, from its first event;
/// the last, `end`, carries the job with its outcome, and the stream closes.
#[utoipa::path(get, path = "/v1/jobs/{id}/events", tag = "jobs", params(("id" = String, Path)),
    responses((status = 200, content_type = "text/event-stream", description = "events `progress` (a JobEvent), then `end` (the JobView)"),
        (status = 404, body = super::problem::ProblemDocument)))]
pub async fn events(State(api): State<Arc<Api>>, _: Caller, id: PathId) -> Result<Response, Problem> {
    Ok(stream(api.jobs.get(&path_id(id)?)?))
}

/// A job's progress as server-sent events: its log so far, then what follows, then `end`.
pub fn stream(job: Arc<Job>) -> Response {
    let (past, live) = job.follow();
    let stream = futures_util::stream::unfold(Some((past.into_iter(), live, job)), |state| async move {
        let (mut past, mut live, job) = state?;
        let event = match past.next() {
            Some(e) => e,
            None => loop {
                match live.recv().await {
                    Ok(e) => break e,
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            },
        };
        if event.kind == "end" {
            let end = Event::default().event("end").json_data(job.view());
            return Some((end, None));
        }
        let progress = Event::default().event("progress").id(event.seq.to_string()).json_data(&event);
        Some((progress, Some((past, live, job))))
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_job_records_its_progress_and_outcome() {
        let jobs = Jobs::default();
        let job = jobs.start("backup", "t1", async {
            crate::progress::note("first");
            let t = crate::progress::transfer("copying");
            t.set_total(100);
            for done in (0..=100).step_by(5) {
                t.set_done(done);
            }
            Ok(serde_json::json!({"ok": true}))
        });
        let failed = jobs.start("restore", "t2", async { Err(Problem::not_found("no such backup")) });
        assert!(jobs.wait(Duration::from_secs(5)).await);
        let view = job.view();
        assert_eq!(view.status, JobStatus::Succeeded);
        assert_eq!(view.result, Some(serde_json::json!({"ok": true})));
        let kinds: Vec<&str> = view.events.iter().map(|e| e.kind).collect();
        assert_eq!(kinds.first(), Some(&"note"));
        assert_eq!(kinds.last(), Some(&"end"));
        // A tenth of the way at a time, not one event per call.
        let transfers = kinds.iter().filter(|k| **k == "transfer").count();
        assert!((10..=12).contains(&transfers), "{kinds:?}");
        let failed = failed.view();
        assert_eq!(failed.status, JobStatus::Failed);
        assert_eq!(failed.error.as_ref().map(|e| e.status), Some(404));
        assert_eq!(jobs.all().len(), 2);
    }

    #[tokio::test]
    async fn a_panicking_job_fails_instead_of_running_forever() {
        let jobs = Jobs::default();
        let job = jobs.start("create", "t", async { panic!("boom") });
        assert!(jobs.wait(Duration::from_secs(5)).await);
        assert_eq!(job.view().status, JobStatus::Failed);
    }
}
