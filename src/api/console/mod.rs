//! The web console under `/console`: server-rendered pages embedded in the binary, over the same
//! [`crate::platform::Platform`] verbs and the same jobs as the API (no JavaScript build; a few
//! lines of plain JS follow a job's server-sent events).
//!
//! - [`session`]: login with an API token, the session cookie, CSRF.
//! - [`html`]: the page frame and escaping.
//!
//! Pages: the tenants (search, filter by status and node, 50 a page), a tenant (connection
//! strings, the password only on an explicit reveal, access, allowlist, suspend policy, pool,
//! backups, restore and clone behind a typed confirmation), a job's progress, and the gateway
//! and nodes.

pub mod html;
pub mod session;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::Api;
use super::PathId;
use super::problem::Problem;
use crate::platform::TenantInfo;
use html::{csrf, esc, page, when};
use session::Operator;

/// Tenants a page of the list shows.
const PAGE: usize = 50;
/// A backup older than this is shown in red (the schedule makes a daily one).
const BACKUP_OLD: u64 = 26 * 3600;
/// A drill older than this is shown in red (the schedule makes a weekly one).
const DRILL_OLD: u64 = 8 * 86400;

/// The console's routes.
pub fn routes() -> Router<Arc<Api>> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/console") }))
        .route("/console", get(tenants))
        .route("/console/login", get(login_form).post(login))
        .route("/console/logout", post(logout))
        .route("/console/status", get(status))
        .route("/console/tenants", post(create))
        .route("/console/tenants/{id}", get(tenant))
        .route("/console/tenants/{id}/reveal", post(reveal))
        .route("/console/tenants/{id}/{action}", post(change))
        .route("/console/jobs/{id}", get(job))
        .route("/console/jobs/{id}/events", get(job_events))
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// A failure as a page.
fn failed(op: Option<&Operator>, p: Problem) -> Response {
    let body = format!(
        r#"<h1>{}</h1><p class="bad">{}</p><p><a href="javascript:history.back()">Back</a></p>"#,
        p.status.as_u16(),
        esc(&p.detail)
    );
    (p.status, page("Error", op, &body)).into_response()
}

/// The login form.
async fn login_form() -> Response {
    let body = r#"<h1>Log in</h1><section><form method="post" action="/console/login">
<p><label>API token <input type="password" name="token" autocomplete="off" size="50" autofocus></label></p>
<p class="muted">A token from <code>pgs token create NAME</code> (read-only tokens can look, not change).</p>
<button>Log in</button></form></section>"#;
    page("Log in", None, body).into_response()
}

#[derive(Deserialize)]
struct LoginForm {
    token: String,
}

/// `POST /console/login`: opens a session for a valid token; a wrong one waits a second.
async fn login(State(api): State<Arc<Api>>, Form(f): Form<LoginForm>) -> Response {
    let token = f.token.trim();
    match api.platform.authenticate(token) {
        Ok(Some(_)) => {
            let id = api.sessions.open(token);
            // Secure when served over TLS (off loopback, it serves nothing else).
            let mut response = Redirect::to("/console").into_response();
            if let Ok(v) = session::cookie(&id, api.tls).parse() {
                response.headers_mut().insert(header::SET_COOKIE, v);
            }
            response
        }
        Ok(None) => {
            tokio::time::sleep(session::FAILED_DELAY).await;
            let body = r#"<h1>Log in</h1><p class="bad">Unknown or revoked token.</p><p><a href="/console/login">Try again</a></p>"#;
            (StatusCode::UNAUTHORIZED, page("Log in", None, body)).into_response()
        }
        Err(e) => failed(None, Problem::from(e)),
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /console/logout`.
async fn logout(State(api): State<Arc<Api>>, op: Operator, Form(f): Form<CsrfForm>) -> Response {
    if !session::same(&f.csrf, &op.csrf) {
        return (StatusCode::FORBIDDEN, "the form's CSRF token is missing or wrong").into_response();
    }
    api.sessions.close(&op.session);
    let mut response = Redirect::to("/console/login").into_response();
    if let Ok(v) = session::expired_cookie().parse() {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

#[derive(Deserialize, Default)]
struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    node: String,
    #[serde(default)]
    page: usize,
}

/// A cell for the last backup: red when it failed or is old.
fn backup_cell(t: &TenantInfo) -> String {
    if !t.backups {
        return r#"<span class="muted">off</span>"#.into();
    }
    match &t.last_backup {
        None => r#"<span class="bad">none yet</span>"#.into(),
        Some(b) if b.error.is_some() => format!(r#"<span class="bad">failed {}</span>"#, when(b.at)),
        Some(b) if now().saturating_sub(b.at) > BACKUP_OLD => {
            format!(r#"<span class="bad">{} (old)</span>"#, when(b.at))
        }
        Some(b) => format!(r#"<span class="ok">{} {}</span>"#, esc(&b.kind), when(b.at)),
    }
}

/// A cell for the last drill: red when it failed or is old.
fn drill_cell(t: &TenantInfo) -> String {
    match &t.last_drill {
        None if t.backups => r#"<span class="muted">none yet</span>"#.into(),
        None => String::new(),
        Some(d) if !d.ok => format!(r#"<span class="bad">failed {}</span>"#, when(d.at)),
        Some(d) if now().saturating_sub(d.at) > DRILL_OLD => {
            format!(r#"<span class="bad">{} (old)</span>"#, when(d.at))
        }
        Some(d) => format!(r#"<span class="ok">passed {}</span>"#, when(d.at)),
    }
}

/// The certificate's end, for the header of the list.
fn certificate_line(api: &Api) -> String {
    match crate::certs::store::not_after(&api.platform.state().cert_files().cert()) {
        Some(end) => {
            let days = (end - now() as i64) / 86400;
            let class = if days < 14 { "bad" } else { "ok" };
            format!(r#"Certificate: <span class="{class}">expires {} ({days} days)</span>"#, when(end.max(0) as u64))
        }
        None => r#"Certificate: <span class="bad">none installed</span>"#.into(),
    }
}

/// `GET /console`: the tenants, searchable and filtered, a page at a time.
async fn tenants(State(api): State<Arc<Api>>, op: Operator, Query(q): Query<ListQuery>) -> Response {
    let all = match api.platform.list(&api.docker).await {
        Ok(all) => all,
        Err(e) => return failed(Some(&op), e.into()),
    };
    let node_of = |t: &TenantInfo| t.node.clone().unwrap_or_else(|| crate::state::MANAGER_NODE.to_string());
    let mut statuses: Vec<String> = all.iter().map(|t| t.status.clone()).collect();
    statuses.sort();
    statuses.dedup();
    let mut nodes: Vec<String> = all.iter().map(node_of).collect();
    nodes.sort();
    nodes.dedup();
    let needle = q.q.trim().to_ascii_lowercase();
    let shown: Vec<&TenantInfo> = all
        .iter()
        .filter(|t| needle.is_empty() || t.id.contains(&needle))
        .filter(|t| q.status.is_empty() || t.status == q.status)
        .filter(|t| q.node.is_empty() || node_of(t) == q.node)
        .collect();
    let pages = shown.len().div_ceil(PAGE).max(1);
    let at = q.page.min(pages - 1);
    let options = |values: &[String], chosen: &str| -> String {
        values
            .iter()
            .map(|v| format!(r#"<option{}>{}</option>"#, if v == chosen { " selected" } else { "" }, esc(v)))
            .collect()
    };
    let mut rows = String::new();
    for t in shown.iter().skip(at * PAGE).take(PAGE) {
        rows.push_str(&format!(
            r#"<tr><td><a href="/console/tenants/{id}">{id}</a></td><td class="{sc}">{status}</td><td>{node}</td><td class="{ac}">{access}</td><td>{backup}</td><td>{drill}</td></tr>"#,
            id = esc(&t.id),
            sc = if t.status == "running" { "ok" } else if t.status == "suspended" { "muted" } else { "bad" },
            status = esc(&t.status),
            node = esc(&node_of(t)),
            ac = if t.access { "ok" } else { "bad" },
            access = if t.access { "on" } else { "off" },
            backup = backup_cell(t),
            drill = drill_cell(t),
        ));
    }
    let link = |p: usize| format!("/console?q={}&status={}&node={}&page={p}", esc(&q.q), esc(&q.status), esc(&q.node));
    let paging = format!(
        r#"<p>{} of {} tenants · page {} of {pages} {} {}</p>"#,
        shown.len(),
        all.len(),
        at + 1,
        if at > 0 { format!(r#"<a href="{}">previous</a>"#, link(at - 1)) } else { String::new() },
        if at + 1 < pages { format!(r#"<a href="{}">next</a>"#, link(at + 1)) } else { String::new() },
    );
    let create = if op.writes() {
        format!(
            r#"<section><h2>New tenant</h2><form method="post" action="/console/tenants">{}
<label>Id <input name="id" required pattern="[a-z0-9][a-z0-9-]*" size="24"></label>
<label>Memory <input name="memory" placeholder="512m" size="8"></label>
<button>Create</button></form></section>"#,
            csrf(&op)
        )
    } else {
        String::new()
    };
    let body = format!(
        r#"<h1>Tenants</h1><p>{cert}</p>
<form method="get" action="/console"><input name="q" value="{q}" placeholder="search ids" size="24">
<select name="status"><option value="">any status</option>{st}</select>
<select name="node"><option value="">any node</option>{nd}</select> <button>Filter</button></form>
{paging}<table><thead><tr><th>Tenant</th><th>Status</th><th>Node</th><th>Access</th><th>Last backup</th><th>Last drill</th></tr></thead>
<tbody>{rows}</tbody></table>{create}"#,
        cert = certificate_line(&api),
        q = esc(&q.q),
        st = options(&statuses, &q.status),
        nd = options(&nodes, &q.node),
    );
    page("Tenants", Some(&op), &body).into_response()
}

/// `GET /console/tenants/{id}`.
async fn tenant(State(api): State<Arc<Api>>, op: Operator, id: PathId) -> Response {
    let id = match super::tenants::tenant_id(id) {
        Ok(id) => id,
        Err(p) => return failed(Some(&op), p),
    };
    tenant_page(&api, &op, id.as_str(), false).await
}

/// `POST /console/tenants/{id}/reveal`: the tenant page with the password and connection
/// strings (a read-write token only).
async fn reveal(State(api): State<Arc<Api>>, op: Operator, id: PathId, Form(f): Form<CsrfForm>) -> Response {
    let id = match super::tenants::tenant_id(id) {
        Ok(id) => id,
        Err(p) => return failed(Some(&op), p),
    };
    if let Err(p) = op.may_change(&f.csrf) {
        return failed(Some(&op), p);
    }
    let mut response = tenant_page(&api, &op, id.as_str(), true).await;
    response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    response
}

async fn tenant_page(api: &Api, op: &Operator, id: &str, show_password: bool) -> Response {
    let t = match api.platform.info(&api.docker, id, show_password).await {
        Ok(t) => t,
        Err(e) => return failed(Some(op), e.into()),
    };
    let id = esc(&t.id);
    let c = csrf(op);
    let hidden = |host: &str| {
        format!(
            "postgresql://{}:********@{}:{}/{}?sslmode=verify-full",
            esc(&t.user),
            esc(host),
            t.port,
            esc(&t.database)
        )
    };
    let direct = t.url.as_deref().map(esc).unwrap_or_else(|| hidden(&t.host));
    let pooled = t.pooled_url.as_deref().map(esc).unwrap_or_else(|| hidden(&t.pooled_host));
    let copy = |text: &str, name: &str| {
        format!(
            r#"<code id="{name}">{text}</code> <button type="button" onclick="navigator.clipboard.writeText(document.getElementById('{name}').textContent)">Copy</button>"#
        )
    };
    let reveal = if t.password.is_none() && op.writes() {
        format!(
            r#"<form class="inline" method="post" action="/console/tenants/{id}/reveal">{c}<button>Reveal the password</button></form>"#
        )
    } else {
        String::new()
    };
    let allow: String = t
        .allow
        .iter()
        .map(|n| {
            format!(
                r#"<li>{n} <form class="inline" method="post" action="/console/tenants/{id}/deny">{c}<input type="hidden" name="network" value="{n}"><button>Remove</button></form></li>"#,
                n = esc(n)
            )
        })
        .collect();
    let backups = if t.backups {
        format!(
            r#"<p>Last backup: {} · last drill: {}</p>
<form class="inline" method="post" action="/console/tenants/{id}/backup">{c}<button>Back up now</button></form>
<form class="inline" method="post" action="/console/tenants/{id}/verify">{c}<button>Run a restore drill</button></form>
<h2>Restore</h2><form method="post" action="/console/tenants/{id}/restore">{c}
<label>To time (RFC 3339, empty: the latest state) <input name="at" size="26" placeholder="2026-12-08T10:00:00Z"></label><br>
<label>Type <strong>{id}</strong> to confirm <input name="confirm" size="20" autocomplete="off"></label>
<button class="danger">Restore {id}</button></form>
<h2>Clone</h2><form method="post" action="/console/tenants/{id}/clone">{c}
<label>New tenant <input name="new" size="20"></label> <label>As of (empty: latest) <input name="at" size="26"></label><br>
<label>Type <strong>{id}</strong> to confirm <input name="confirm" size="20" autocomplete="off"></label> <button>Clone</button></form>"#,
            backup_cell(&t),
            drill_cell(&t)
        )
    } else {
        r#"<p class="muted">Backups are off for this installation (<code>pgs setup --backups local</code>).</p>"#.into()
    };
    let pool = &t.pool;
    let body = format!(
        r#"<h1>{id}</h1>
<section><h2>Connect</h2><p>Status <strong>{status}</strong>{node}</p>
<p>Direct: {direct}</p><p>Pooled: {pooled}</p>{reveal}</section>
<section><h2>Access</h2><p>Clients are <strong class="{ac}">{access}</strong>.
<form class="inline" method="post" action="/console/tenants/{id}/access">{c}<input type="hidden" name="access" value="{toggle}"><button id="toggle-access">{verb}</button></form></p>
<p>Allowlist (empty: every address):</p><ul>{allow}</ul>
<form method="post" action="/console/tenants/{id}/allow">{c}<input name="network" placeholder="203.0.113.0/24" size="20"> <button>Allow</button></form></section>
<section><h2>Scale to zero</h2><form method="post" action="/console/tenants/{id}/suspend-policy">{c}
<label>Suspend after <input name="after" placeholder="15m" size="8"></label> <button>Set</button> <button name="never" value="1">Never</button></form></section>
<section><h2>Pooled endpoint</h2><form method="post" action="/console/tenants/{id}/pool">{c}
<label>Mode <select name="mode">{modes}</select></label> <label>Size <input name="size" value="{size}" size="5"></label> <button>Save</button></form></section>
<section><h2>Backups</h2>{backups}</section>"#,
        status = esc(&t.status),
        node = t.node.as_deref().map(|n| format!(" on node {}", esc(n))).unwrap_or_default(),
        direct = copy(&direct, "direct-url"),
        pooled = copy(&pooled, "pooled-url"),
        ac = if t.access { "ok" } else { "bad" },
        access = if t.access { "admitted" } else { "refused" },
        toggle = if t.access { "off" } else { "on" },
        verb = if t.access { "Refuse clients" } else { "Admit clients" },
        modes = ["auto", "transaction", "session"]
            .iter()
            .map(|m| format!(r#"<option{}>{m}</option>"#, if pool.mode.as_str() == *m { " selected" } else { "" }))
            .collect::<String>(),
        size = pool.size,
    );
    page(&t.id, Some(op), &body).into_response()
}

/// A state-changing form of the tenant page (every field optional; the CSRF token required).
#[derive(Deserialize, Default)]
struct ChangeForm {
    #[serde(default)]
    csrf: String,
    access: Option<String>,
    network: Option<String>,
    after: Option<String>,
    never: Option<String>,
    mode: Option<String>,
    size: Option<String>,
    at: Option<String>,
    confirm: Option<String>,
    new: Option<String>,
    id: Option<String>,
    memory: Option<String>,
}

/// `POST /console/tenants`: create, as a job.
async fn create(State(api): State<Arc<Api>>, op: Operator, Form(f): Form<ChangeForm>) -> Response {
    if let Err(p) = op.may_change(&f.csrf) {
        return failed(Some(&op), p);
    }
    let body = super::tenants::CreateBody {
        id: f.id.unwrap_or_default(),
        memory: f.memory.filter(|m| !m.trim().is_empty()),
        ..Default::default()
    };
    let started = super::tenants::start_create(&api, body);
    job_redirect(&op, started)
}

/// Sends the browser to a started job's page.
fn job_redirect(op: &Operator, started: Result<Arc<super::jobs::Job>, Problem>) -> Response {
    match started {
        Ok(job) => Redirect::to(&format!("/console/jobs/{}", job.view().id)).into_response(),
        Err(p) => failed(Some(op), p),
    }
}

/// `POST /console/tenants/{id}/{action}`: the tenant page's forms.
async fn change(
    State(api): State<Arc<Api>>,
    op: Operator,
    axum::extract::Path((id, action)): axum::extract::Path<(String, String)>,
    Form(f): Form<ChangeForm>,
) -> Response {
    if let Err(p) = op.may_change(&f.csrf) {
        return failed(Some(&op), p);
    }
    let id = match crate::state::TenantId::parse(&id) {
        Ok(id) => id,
        Err(e) => return failed(Some(&op), crate::platform::Error::from(e).into()),
    };
    let back = Redirect::to(&format!("/console/tenants/{id}")).into_response();
    let bad = |m: &str| failed(Some(&op), Problem::new(StatusCode::BAD_REQUEST, m));
    let confirmed = f.confirm.as_deref().map(str::trim) == Some(id.as_str());
    let p = &api.platform;
    let done: Result<Response, Problem> = match action.as_str() {
        "access" => {
            p.set_access(id.as_str(), f.access.as_deref() == Some("on")).await.map(|_| back).map_err(Into::into)
        }
        "allow" | "deny" => {
            let networks = vec![f.network.unwrap_or_default().trim().to_string()];
            p.set_allow(id.as_str(), &networks, action == "allow").await.map(|_| back).map_err(Into::into)
        }
        "suspend-policy" => {
            let after = if f.never.is_some() {
                Ok(None)
            } else {
                crate::state::units::parse_duration(f.after.as_deref().unwrap_or_default()).map(Some)
            };
            match after {
                Ok(after) => p.set_suspend_policy(id.as_str(), after).await.map(|_| back).map_err(Into::into),
                Err(e) => return bad(&format!("suspend after: {e}")),
            }
        }
        "pool" => {
            let mode = match f.mode.as_deref().map(|m| serde_json::from_value(serde_json::Value::String(m.into()))) {
                Some(Ok(m)) => Some(m),
                Some(Err(_)) => return bad("mode: auto, transaction or session"),
                None => None,
            };
            let size = match f.size.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::parse) {
                Some(Ok(n)) => Some(n),
                Some(Err(_)) => return bad("size: a number of server connections"),
                None => None,
            };
            let change = crate::platform::PoolChange { mode, size, ..Default::default() };
            p.set_pool(id.as_str(), &change).await.map(|_| back).map_err(Into::into)
        }
        "backup" => return job_redirect(&op, super::backups::start_backup(&api, &id, crate::backup::Kind::Full)),
        "verify" => return job_redirect(&op, super::backups::start_verify(&api, &id, None)),
        "restore" | "clone" if !confirmed => {
            return bad(&format!("type the tenant's name, {id}, to confirm: nothing was changed"));
        }
        "restore" => {
            let at = f.at.filter(|a| !a.trim().is_empty());
            return job_redirect(&op, super::backups::start_restore(&api, &id, at.as_deref(), None));
        }
        "clone" => {
            let body = super::backups::CloneBody {
                new: f.new.unwrap_or_default(),
                at: f.at.filter(|a| !a.trim().is_empty()),
                ..Default::default()
            };
            return job_redirect(&op, super::backups::start_clone(&api, &id, body));
        }
        _ => return failed(Some(&op), Problem::not_found("no such form")),
    };
    done.unwrap_or_else(|p| failed(Some(&op), p))
}

/// `GET /console/jobs/{id}`: a job's progress, live.
async fn job(State(api): State<Arc<Api>>, op: Operator, id: PathId) -> Response {
    let job = match super::path_id(id).and_then(|id| api.jobs.get(&id)) {
        Ok(job) => job,
        Err(p) => return failed(Some(&op), p),
    };
    let v = job.view();
    let events: String = v.events.iter().map(|e| format!("<li>{}</li>", esc(&e.message))).collect();
    let link = if v.kind == "node-add" {
        "/console/status".to_string()
    } else {
        format!("/console/tenants/{}", esc(&v.target))
    };
    let body = format!(
        r#"<h1>{kind} {target}</h1><p>Status: <strong id="status">{status}</strong></p>
<ul class="events" id="events">{events}</ul><p id="outcome">{outcome}</p><p><a href="{link}">Back to {target}</a></p>
<script>
if (document.getElementById('status').textContent === 'running') {{
  const list = document.getElementById('events');
  const src = new EventSource('/console/jobs/{id}/events');
  let seen = list.children.length;
  src.addEventListener('progress', e => {{
    const ev = JSON.parse(e.data);
    if (ev.seq < seen) return;
    seen = ev.seq + 1;
    const li = document.createElement('li'); li.textContent = ev.message; list.appendChild(li);
  }});
  src.addEventListener('end', e => {{
    const job = JSON.parse(e.data);
    document.getElementById('status').textContent = job.status;
    document.getElementById('outcome').textContent = job.error ? job.error.detail : 'Done.';
    src.close();
  }});
}}
</script>"#,
        kind = esc(v.kind),
        target = esc(&v.target),
        status = match v.status {
            super::jobs::JobStatus::Running => "running",
            super::jobs::JobStatus::Succeeded => "succeeded",
            super::jobs::JobStatus::Failed => "failed",
        },
        outcome = v.error.as_ref().map(|e| esc(&e.detail)).unwrap_or_default(),
        id = esc(&v.id),
    );
    page("Job", Some(&op), &body).into_response()
}

/// `GET /console/jobs/{id}/events`: as the API's, with the console's session.
async fn job_events(State(api): State<Arc<Api>>, _: Operator, id: PathId) -> Response {
    match super::path_id(id).and_then(|id| api.jobs.get(&id)) {
        Ok(job) => super::jobs::stream(job),
        Err(p) => p.into_response(),
    }
}

/// `GET /console/status`: the gateway and the nodes.
async fn status(State(api): State<Arc<Api>>, op: Operator) -> Response {
    let gateway = match api.platform.gateway_status(&api.docker).await {
        Ok(g) => format!(
            "<p>Container {} · ready {} · controller {} · port {}</p>",
            esc(&g.status),
            if g.ready { r#"<span class="ok">yes</span>"# } else { r#"<span class="bad">no</span>"# },
            esc(&g.controller),
            g.port
        ),
        Err(e) => format!(r#"<p class="bad">{}</p>"#, esc(&e.to_string())),
    };
    let nodes = match api.platform.node_list(&api.docker).await {
        Ok(nodes) => {
            let rows: String = nodes
                .iter()
                .map(|n| {
                    format!(
                        r#"<tr><td>{}</td><td class="{}">{}</td><td>{}</td><td>{}</td><td>{} MB</td></tr>"#,
                        esc(&n.name),
                        if n.state == "ready" && n.stale_since.is_none() { "ok" } else { "bad" },
                        esc(&if n.stale_since.is_some() { format!("{}, stale", n.state) } else { n.state.clone() }),
                        esc(&n.address),
                        n.tenants,
                        n.memory_free >> 20
                    )
                })
                .collect();
            format!(
                "<table><thead><tr><th>Node</th><th>State</th><th>Address</th><th>Tenants</th><th>Memory free</th></tr></thead><tbody>{rows}</tbody></table>"
            )
        }
        Err(e) => format!(r#"<p class="muted">{}</p>"#, esc(&e.to_string())),
    };
    let body = format!(
        "<h1>Gateway and nodes</h1><section><h2>Managed gateway</h2>{gateway}<p>{}</p></section><section><h2>Nodes</h2>{nodes}</section>",
        certificate_line(&api)
    );
    page("Gateway and nodes", Some(&op), &body).into_response()
}
