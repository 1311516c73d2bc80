//! `pgs list` and `pgs info`: tenants as recorded, with their real status.
//!
//! The status costs one Docker call for all tenants (a listing of this installation's
//! containers), plus, for each running container, one probe of its PostgreSQL over its socket
//! ([`crate::gateway::probe`]): no `docker exec`, no healthcheck process, no call per tenant to
//! Docker. A database that stops answering shows as `unhealthy` at the next `list`. Tenants on
//! other nodes of a swarm cost one request to the swarm manager and one listing per node (and
//! where one of its containers is stopped, one read of the node's `suspended.json`); a node
//! that is down shows its tenants as `node down`.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use futures_util::StreamExt;

use super::{Platform, Result, TenantInfo};
use crate::docker::Docker;
use crate::docker::tenant::{ContainerState, Status};
use crate::gateway::backend::BackendAddr;
use crate::gateway::probe::{self, Answer};
use crate::state::{Phase, Suspensions, Tenant, TenantId};

/// How long a probe waits for a PostgreSQL that does not answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// Probes in flight at once.
const PROBES_AT_ONCE: usize = 32;

impl Platform {
    /// Every tenant with its status.
    pub async fn list(&self, docker: &Docker) -> Result<Vec<TenantInfo>> {
        let config = self.state.config()?;
        let tenants = self.state.tenants()?;
        let containers = docker.tenant_containers(&config.instance, None).await?;
        let nodes: BTreeSet<&str> = tenants.tenants.values().filter_map(|t| t.node.as_deref()).collect();
        let remote = self.node_containers(docker, &config, &nodes).await?;
        // Futures of a named async fn, collected first: a closure returning an async block here
        // makes the whole future's Send-ness unprovable (the API's handlers need it Send).
        let probes: Vec<_> = tenants
            .tenants
            .iter()
            .map(|(id, t)| {
                let remote = t.node.as_deref().map(|node| remote.get(node).and_then(|c| c.as_ref()));
                self.status_anywhere(id, t, remote, containers.get(id.as_str()))
            })
            .collect();
        let statuses: Vec<Status> = futures_util::stream::iter(probes).buffered(PROBES_AT_ONCE).collect().await;
        let mut roles = self.ha_roles(&config, &tenants).await;
        Ok(tenants
            .tenants
            .iter()
            .zip(statuses)
            .map(|((id, t), status)| {
                let status = if t.phase == Phase::Provisioning { "creating".to_string() } else { status.to_string() };
                let mut info = self.info_of(&config, id, t, status);
                info.ha = roles.remove(id.as_str());
                info
            })
            .collect())
    }

    /// One tenant, with its password and URL when `show_password`, and, when it has backups and
    /// runs, how its WAL archiving is doing.
    pub async fn info(&self, docker: &Docker, id: &str, show_password: bool) -> Result<TenantInfo> {
        let (config, id, tenant) = self.tenant(id)?;
        let status = match (tenant.phase, tenant.node.as_deref()) {
            (Phase::Provisioning, _) => "creating".to_string(),
            (Phase::Ready, Some(node)) => {
                let remote = self.node_containers(docker, &config, &BTreeSet::from([node])).await?;
                remote_status(&id, &tenant, remote.get(node).and_then(|c| c.as_ref())).to_string()
            }
            (Phase::Ready, None) => {
                let containers = docker.tenant_containers(&config.instance, Some(id.as_str())).await?;
                self.status_of(&id, &tenant, containers.get(id.as_str())).await.to_string()
            }
        };
        let mut info = self.info_of(&config, &id, &tenant, status);
        if let Ok(engine) = self.engine_of(docker, &config, &tenant).await {
            info.data_volumes =
                self.data_volumes(&engine, &config.instance, &id, Some(&tenant)).await.unwrap_or_default();
        }
        if tenant.backups && info.status == "running" {
            // One more Docker call, for this one tenant: `list` stays at a few in all.
            if let Ok(engine) = self.serving_engine(docker, &config, &id, &tenant).await {
                info.archiving = self.archiving(&engine, &id).await.ok();
            }
        }
        if show_password { self.with_secret(&config, &id, info) } else { Ok(info) }
    }

    /// The status of a tenant on another node (`remote`: that node's containers, `None` inside
    /// when the node is down) or on this host (`container`).
    async fn status_anywhere(
        &self,
        id: &TenantId,
        tenant: &Tenant,
        remote: Option<Option<&NodeTenants>>,
        container: Option<&ContainerState>,
    ) -> Status {
        match remote {
            Some(node) => remote_status(id, tenant, node),
            None => self.status_of(id, tenant, container).await,
        }
    }

    /// What pgs reports for a tenant whose container is in `container`'s state.
    async fn status_of(&self, id: &TenantId, tenant: &Tenant, container: Option<&ContainerState>) -> Status {
        match container {
            None => Status::Missing,
            Some(c) if c.restarting => Status::Restarting,
            Some(c) if !c.running && tenant.suspended => Status::Suspended,
            Some(c) if !c.running => Status::Stopped,
            Some(c) => match self.probe(id, tenant, c.has_socket).await {
                Answer::Accepting => Status::Running,
                Answer::Starting => Status::Starting,
                // The socket appears when PostgreSQL listens: no socket yet is a start under way.
                Answer::Down if c.has_socket && !self.socket_path(id).exists() => Status::Starting,
                Answer::Down | Answer::NoAnswer | Answer::Error(_) => Status::Unhealthy,
            },
        }
    }

    /// The tenants of each of `nodes` as their engines see them: one request to the swarm
    /// manager for the nodes' states, then one listing per node that is `ready`, and, where a
    /// container does not run, one read of the node's `suspended.json`; `None` for a node that
    /// is down or whose engine does not answer.
    async fn node_containers(
        &self,
        docker: &Docker,
        config: &crate::state::Config,
        nodes: &BTreeSet<&str>,
    ) -> Result<HashMap<String, Option<NodeTenants>>> {
        if nodes.is_empty() {
            return Ok(HashMap::new());
        }
        let seen = docker.swarm_nodes().await?;
        let mut out = HashMap::new();
        for &node in nodes {
            let record = super::nodes::node_record(config, node)?;
            let ready = seen.iter().any(|s| s.id == record.swarm_id && s.state == "ready");
            let engine = match ready {
                true => self.node_engine(config, node).await.ok(),
                false => None,
            };
            let mut view = None;
            if let Some(engine) = engine
                && let Ok(containers) = engine.tenant_containers(&config.instance, None).await
            {
                let suspended = match containers.values().all(|c| c.running) {
                    true => Default::default(),
                    false => self.node_suspensions(&engine).await,
                };
                view = Some(NodeTenants { containers, suspended });
            }
            out.insert(node.to_string(), view);
        }
        Ok(out)
    }

    /// The tenants that the controller of the node whose engine is `engine` suspended (read
    /// from its gateway's mount of the node's dir); none if it cannot be read.
    pub(super) async fn node_suspensions(&self, engine: &Docker) -> Suspensions {
        use crate::docker::gateway::{CONTAINER, STATE_MOUNT};
        let path = format!("{STATE_MOUNT}/{}", crate::state::SUSPENSIONS);
        match engine.read_file(CONTAINER, &path, 1 << 20).await {
            Ok(Some(bytes)) => serde_json::from_slice(&bytes).unwrap_or_default(),
            Ok(None) => Suspensions::default(),
            Err(e) => {
                tracing::debug!(error = %e, "cannot read a node's suspensions");
                Suspensions::default()
            }
        }
    }

    /// Host path of a tenant's PostgreSQL socket.
    fn socket_path(&self, id: &TenantId) -> std::path::PathBuf {
        self.state.tenant_socket(id)
    }

    /// Probes a tenant's PostgreSQL: over its socket, or its loopback port for a container of
    /// an earlier release that mounts no socket dir.
    pub(super) async fn probe(&self, id: &TenantId, tenant: &Tenant, has_socket: bool) -> Answer {
        let addr = match tenant.local_port {
            Some(port) if !has_socket => BackendAddr::Tcp(std::net::SocketAddr::from(([127, 0, 0, 1], port))),
            _ => BackendAddr::Unix(self.socket_path(id)),
        };
        probe::probe(&addr, id.as_str(), PROBE_TIMEOUT).await
    }
}

/// A node's tenants as its engine and its controller see them.
struct NodeTenants {
    /// Their containers, by tenant id.
    containers: HashMap<String, ContainerState>,
    /// Which of them the node's controller suspended.
    suspended: Suspensions,
}

/// What pgs reports for tenant `id` on another node: `node` is `None` when that node is down or
/// unreachable. Its PostgreSQL is not probed from here (its socket is on the node): a running
/// container counts as running.
fn remote_status(id: &TenantId, tenant: &Tenant, node: Option<&NodeTenants>) -> Status {
    let Some(node) = node else { return Status::NodeDown };
    match node.containers.get(id.as_str()) {
        None => Status::Missing,
        Some(c) if c.restarting => Status::Restarting,
        Some(c) if !c.running && (tenant.suspended || node.suspended.tenants.contains(id)) => Status::Suspended,
        Some(c) if !c.running => Status::Stopped,
        Some(_) => Status::Running,
    }
}
