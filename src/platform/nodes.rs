//! More than one host: `pgs swarm init` and `pgs node add|list|remove` (`docs/scale-out.md`).
//! The manager's state dir stays the one truth; the swarm gives node identity, addresses and
//! liveness. A node is known by the name pgs gave it (a Swarm node label), never by its host
//! name, which two engines on one machine share.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::{Error, Platform, Result, fail, now};
use crate::docker::Docker;
use crate::docker::swarm::{LABEL_NODE, SwarmNode};
use crate::state::{Config, MANAGER_NODE, NodeRecord, SwarmSettings, TenantId};

/// Overlay subnets the swarm may hand out, the first that no network of the engine overlaps:
/// Swarm's default (10.0.0.0/8) would shadow most private networks a host is on.
const SWARM_POOLS: [&str; 4] = ["10.251.0.0/16", "10.252.0.0/16", "172.30.0.0/16", "192.168.250.0/24"];

/// How long `node add` waits for a joined engine to be `ready` in the swarm.
const JOIN_WAIT: Duration = Duration::from_secs(60);

/// How long a node's new gateway may take to serve.
const GATEWAY_WAIT: Duration = Duration::from_secs(30);

/// The node dir pgs gives node `node` of installation `instance` on its host, unless
/// `node add --data-dir` says otherwise.
pub fn node_dir(instance: &str, node: &str) -> String {
    format!("/var/lib/pgs/{instance}/{node}")
}

/// Memory a tenant without `--memory` is counted with when nodes are compared.
pub const UNLIMITED_TENANT_MEMORY: i64 = 256 << 20;

/// The record of node `name` (not the manager: it has none).
pub fn node_record(config: &Config, name: &str) -> Result<NodeRecord> {
    match config.swarm.as_ref().and_then(|s| s.nodes.get(name)) {
        Some(record) => Ok(record.clone()),
        None => fail!(Invalid, "there is no node {name} (`pgs node list`)"),
    }
}

impl Platform {
    /// A connection to the engine of node `name`: made once per `pgs` run and reused, so that a
    /// verb over many of a node's tenants connects to its engine once.
    pub async fn node_engine(&self, config: &Config, name: &str) -> Result<Docker> {
        let record = node_record(config, name)?;
        let cached = self.engines.lock().unwrap_or_else(|p| p.into_inner()).get(&record.docker_host).cloned();
        if let Some(engine) = cached {
            return Ok(engine);
        }
        let engine = Docker::connect_to(&record.docker_host).await.map_err(|e| match e {
            crate::docker::DockerError::Unreachable { .. } => Error::Unreachable(format!(
                "cannot reach the Docker engine of node {name} at {}: is the node up (`pgs node list`) and its engine running?",
                record.docker_host
            )),
            other => Error::step(format!("node {name}"), other.into()),
        })?;
        self.engines.lock().unwrap_or_else(|p| p.into_inner()).insert(record.docker_host, engine.clone());
        Ok(engine)
    }
}

/// A node as `pgs node list` shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NodeInfo {
    /// The name pgs knows it by ([`MANAGER_NODE`] for the manager).
    pub name: String,
    /// Its Swarm node id.
    pub swarm_id: String,
    /// `ready`, `down`, `unknown`, `disconnected`, or `removed` (no longer in the swarm).
    pub state: String,
    /// `active`, `pause` or `drain`.
    pub availability: String,
    /// The address it advertises.
    pub address: String,
    /// Whether it is the manager, where the state dir is.
    pub manager: bool,
    /// Its tenants.
    pub tenants: usize,
    /// Its engine's memory in bytes.
    pub memory: i64,
    /// Memory not yet promised to tenants (their `--memory`, or 256 MB each without one).
    pub memory_free: i64,
    /// Its engine's API (other nodes only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub docker_host: Option<String>,
    /// Its gateway has missed changes since then (seconds since the epoch): serves older
    /// routes or certificates until a push succeeds (`pgs node sync`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stale_since: Option<u64>,
}

impl Platform {
    /// Makes the engine pgs runs against a swarm manager, and this host the first pgs node
    /// ([`MANAGER_NODE`]). An engine that already manages a swarm is adopted as it is.
    pub async fn swarm_init(&self, docker: &Docker, advertise_addr: Option<&str>) -> Result<SwarmSettings> {
        let config = self.state.config()?;
        if let Some(swarm) = &config.swarm {
            fail!(Conflict, "this installation already spans a swarm (manager node {})", swarm.manager_id);
        }
        let local = docker.local_swarm().await?;
        let manager_id = match local.state.as_str() {
            "active" if local.manager => local.node_id,
            "active" => fail!(
                Invalid,
                "this engine is a worker of another swarm: run `pgs swarm init` where the state dir and a swarm manager are"
            ),
            "inactive" => {
                let pool = self.free_pool(docker).await?;
                let step = crate::progress::step("making this engine a swarm manager");
                let id = docker.swarm_init(advertise_addr.unwrap_or(""), pool).await.map_err(|e| {
                    let hint = if advertise_addr.is_none() {
                        " (pass --advertise-addr: the address other hosts reach this one on)"
                    } else {
                        ""
                    };
                    Error::step(format!("making this engine a swarm manager failed{hint}"), e.into())
                })?;
                drop(step);
                id
            }
            other => fail!(Invalid, "this engine's swarm is {other}: fix it with `docker swarm` first"),
        };
        docker.label_swarm_node(&manager_id, LABEL_NODE, MANAGER_NODE).await?;
        // Made now, so that the manager's gateway relays with it from its first relayed client.
        self.state.peer_key()?;
        let advertised =
            docker.swarm_nodes().await?.into_iter().find(|n| n.id == manager_id).map(|n| n.addr).unwrap_or_default();
        let swarm = SwarmSettings { manager_id, advertise_addr: advertised, nodes: Default::default(), store: None };
        let saved = swarm.clone();
        self.update_swarm(|swarm| {
            *swarm = Some(saved);
            Ok(())
        })?;
        Ok(swarm)
    }

    /// Changes the swarm settings under the state lock.
    pub(super) fn update_swarm(&self, f: impl FnOnce(&mut Option<SwarmSettings>) -> Result<()>) -> Result<()> {
        let lock = self.state.lock()?;
        let mut config = self.state.config()?;
        f(&mut config.swarm)?;
        self.state.save_config(&lock, &config)?;
        Ok(())
    }

    /// The first of [`SWARM_POOLS`] that no network of the engine overlaps.
    async fn free_pool(&self, docker: &Docker) -> Result<&'static str> {
        let used = docker.network_subnets().await?;
        SWARM_POOLS
            .into_iter()
            .find(|pool| {
                let pool: ipnet::IpNet = pool.parse().expect("a valid pool");
                !used.iter().any(|net| net.contains(&pool.network()) || pool.contains(&net.network()))
            })
            .ok_or_else(|| {
                Error::Conflict(format!(
                    "every address pool pgs would give the swarm ({}) is in use here",
                    SWARM_POOLS.join(", ")
                ))
            })
    }

    /// Adopts the engine at `docker_host` as node `name`: joins it to the swarm (unless it is
    /// in it already), labels it, and copies the tenant image to it.
    pub async fn node_add(
        &self,
        docker: &Docker,
        name: &str,
        docker_host: &str,
        address: Option<&str>,
        data_dir: Option<&str>,
    ) -> Result<NodeInfo> {
        let name = TenantId::parse(name).map_err(|e| Error::Invalid(format!("invalid node name: {e}")))?.to_string();
        let config = self.state.config()?;
        let Some(swarm) = &config.swarm else { fail!(Invalid, "there is no swarm yet: run `pgs swarm init` first") };
        if name == MANAGER_NODE || swarm.nodes.contains_key(&name) {
            fail!(Conflict, "there is a node {name} already (`pgs node list`)");
        }
        if let Some((other, _)) = swarm.nodes.iter().find(|(_, n)| n.docker_host == docker_host) {
            fail!(Conflict, "node {other} already has the engine at {docker_host}");
        }
        let node = Docker::connect_to(docker_host).await?;
        let local = node.local_swarm().await?;
        let known = docker.swarm_nodes().await?;
        let swarm_id = match local.state.as_str() {
            "active" if known.iter().any(|n| n.id == local.node_id) => {
                if local.node_id == swarm.manager_id {
                    fail!(Invalid, "the engine at {docker_host} is the manager's own engine");
                }
                local.node_id
            }
            "active" => {
                fail!(Invalid, "the engine at {docker_host} is in another swarm: `docker swarm leave` it first")
            }
            "inactive" => {
                let step = crate::progress::step(&format!("joining {name} to the swarm"));
                let token = docker.worker_join_token().await?;
                let manager = format!("{}:2377", swarm.advertise_addr);
                node.swarm_join(&manager, &token, address.unwrap_or("")).await?;
                drop(step);
                node.local_swarm().await?.node_id
            }
            other => {
                fail!(Invalid, "the swarm of the engine at {docker_host} is {other}: fix it with `docker swarm` first")
            }
        };
        let joined = self.wait_node_ready(docker, &swarm_id).await?;
        if let Some(other) = joined.labels.get(LABEL_NODE).filter(|n| **n != name) {
            fail!(Conflict, "the engine at {docker_host} is node {other} already");
        }
        docker.label_swarm_node(&swarm_id, LABEL_NODE, &name).await?;
        if !node.has_image(&config.image).await? {
            let step = crate::progress::step(&format!("copying image {} to {name}", config.image));
            docker.copy_image(&config.image, &node).await?;
            drop(step);
        }
        let data_dir = data_dir.map_or_else(|| node_dir(&config.instance, &name), str::to_owned);
        if !data_dir.starts_with('/') {
            fail!(Invalid, "--data-dir must be an absolute path on the node's host, not {data_dir:?}");
        }
        let record = NodeRecord {
            docker_host: docker_host.to_string(),
            swarm_id: swarm_id.clone(),
            address: joined.addr.clone(),
            data_dir,
            added_at: now(),
            stale_since: None,
        };
        let saved = record.clone();
        let node_name = name.clone();
        self.update_swarm(|swarm| {
            let swarm = swarm.as_mut().ok_or_else(|| Error::Conflict("the swarm left the config meanwhile".into()))?;
            if swarm.nodes.contains_key(&node_name) {
                fail!(Conflict, "there is a node {node_name} already (added meanwhile)");
            }
            swarm.nodes.insert(node_name, saved);
            Ok(())
        })?;
        let image = docker.ensure_gateway_image().await?;
        self.sync_node(docker, &name, &image).await?;
        Ok(node_info(&name, Some(&record), Some(&joined), 0, 0))
    }

    /// Brings the gateway of node `name` up to date: its state (the config, the routes and
    /// secrets of the node's own tenants, the certificate, the peer key), its image (built
    /// from the running binary on this engine and copied there), and its container, created
    /// and started if missing, or replaced without refusing a connection if it runs an older
    /// binary ([`Platform::upgrade_node_gateway`]). A running gateway picks up new routes and
    /// certificates by itself.
    /// `image` is the gateway image of the running binary on `docker` (from
    /// `ensure_gateway_image`, which reads and hashes the binary: once per verb, not per node).
    pub async fn sync_node(&self, docker: &Docker, name: &str, image: &str) -> Result<()> {
        use crate::docker::gateway::{CONTAINER, STATE_MOUNT};
        let config = self.state.config()?;
        let record = node_record(&config, name)?;
        let node = self.node_engine(&config, name).await?;
        let files = self.node_files(&config, name)?;
        let image = image.to_string();
        self.reap_retired(&node, &config.instance).await?;
        let running = node.inspect_container(CONTAINER).await?;
        if let Some(c) = &running {
            node.upload(CONTAINER, STATE_MOUNT, files.clone()).await?;
            if c.config.as_ref().and_then(|c| c.image.as_deref()) == Some(image.as_str()) {
                return Ok(());
            }
        }
        if !node.has_image(&image).await? {
            let step = crate::progress::step(&format!("copying the gateway image to {name}"));
            docker.copy_image(&image, &node).await?;
            drop(step);
        }
        let spec = crate::docker::gateway::GatewaySpec {
            instance: config.instance.clone(),
            image,
            state_dir: record.data_dir.clone().into(),
            gateway_port: config.gateway_port,
            health_port: config.health_port,
            drain: super::DEFAULT_DRAIN,
        };
        // Its controller first: a push that fails after it comes back the same way.
        self.ensure_node_controller(&node, name, &spec).await?;
        if let Some(old) = running {
            return self.upgrade_node_gateway(&node, name, &spec, &old).await;
        }
        node.create_node_gateway_container(&spec, &record.data_dir).await?;
        node.upload(CONTAINER, STATE_MOUNT, files).await?;
        node.start_container(CONTAINER).await?;
        Ok(())
    }

    /// Runs node `name`'s controller (scale to zero of its tenants) from `spec`'s image, in
    /// place of one from another image: it holds no sessions, so it is simply replaced. Called
    /// when the node's gateway is made or replaced, which a new pgs binary always does.
    async fn ensure_node_controller(
        &self,
        node: &Docker,
        name: &str,
        spec: &crate::docker::gateway::GatewaySpec,
    ) -> Result<()> {
        use crate::docker::gateway::CONTROLLER;
        if let Some(image) = node.container_image(CONTROLLER).await? {
            if image == spec.image {
                return Ok(node.start_container(CONTROLLER).await?);
            }
            node.remove_container(CONTROLLER).await?;
        }
        node.create_node_controller_container(spec, name, &spec.state_dir.to_string_lossy()).await?;
        Ok(node.start_container(CONTROLLER).await?)
    }

    /// Replaces node `name`'s running gateway `old` by one from `spec`, as `pgs gateway
    /// restart` does on this host: `old` is renamed and not restarted by Docker any more, the
    /// new one takes its listening socket over (both mount the node's dir, where the handover
    /// socket is) and `old` serves its open sessions until they end or the drain deadline; a
    /// later sync removes it. A new gateway that does not listen within 30 s is removed and
    /// `old` put back, having served all along.
    async fn upgrade_node_gateway(
        &self,
        node: &Docker,
        name: &str,
        spec: &crate::docker::gateway::GatewaySpec,
        old: &bollard::models::ContainerInspectResponse,
    ) -> Result<()> {
        use crate::docker::gateway::{CONTAINER, RETIRED_PREFIX};
        use bollard::models::RestartPolicyNameEnum;
        let id = old.id.clone().unwrap_or_default();
        let retired = format!("{RETIRED_PREFIX}{}", id.get(..12).unwrap_or(&id));
        let step = crate::progress::step(&format!("replacing the gateway of {name} (a new pgs binary)"));
        node.rename_container(CONTAINER, &retired).await?;
        node.set_restart_policy(&retired, RestartPolicyNameEnum::NO).await?;
        let started = async {
            node.create_node_gateway_container(spec, &spec.state_dir.to_string_lossy()).await?;
            node.start_container(CONTAINER).await?;
            let waited = Instant::now();
            // The line a gateway logs once it took the socket over and serves.
            while !node.logs_tail(CONTAINER, 50).await.contains("gateway listening") {
                let status = node.container_status(CONTAINER).await?;
                if status != crate::docker::tenant::Status::Running || waited.elapsed() > GATEWAY_WAIT {
                    let logs = node.logs_tail(CONTAINER, 15).await;
                    fail!(Timeout, "the new gateway of {name} did not start serving ({status}):\n{}", logs.trim_end());
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Ok(())
        };
        let result = started.await;
        drop(step);
        if result.is_err() {
            let _ = node.remove_container(CONTAINER).await;
            let _ = node.rename_container(&retired, CONTAINER).await;
            let _ = node.set_restart_policy(CONTAINER, RestartPolicyNameEnum::UNLESS_STOPPED).await;
        }
        result
    }

    /// What node `name`'s gateway and controller read, as a tar archive of its state dir: the
    /// config, the routes of the node's tenants, their records, their secrets (the pooled
    /// endpoint looks up verifiers with them), the certificate, the peer key, and the folder
    /// for the tenants' sockets.
    fn node_files(&self, config: &crate::state::Config, name: &str) -> Result<Vec<u8>> {
        let tenants = self.state.tenants()?;
        let generation = self.state.routes()?.map_or(1, |r| r.generation);
        let routes = crate::state::Routes::build_on(config, &tenants, generation, Some(name));
        // The records of the node's own tenants, for its controller (suspend policies).
        let own = crate::state::Tenants {
            tenants: tenants
                .tenants
                .iter()
                .filter(|(_, t)| t.node.as_deref() == Some(name))
                .map(|(id, t)| (id.clone(), t.clone()))
                .collect(),
            node: Some(name.to_string()),
            ..Default::default()
        };
        let mut files: Vec<(String, Vec<u8>, u32)> = vec![
            (crate::state::CONFIG.into(), serde_json::to_vec_pretty(config)?, 0o600),
            (crate::state::ROUTES.into(), serde_json::to_vec_pretty(&routes)?, 0o644),
            (crate::state::TENANTS.into(), serde_json::to_vec(&own)?, 0o600),
        ];
        files.push((crate::state::PEER_KEY.into(), self.state.peer_key()?.into_bytes(), 0o600));
        let certs = self.state.cert_files();
        for (path, file) in [(certs.cert(), crate::state::CERT_FILE), (certs.key(), crate::state::KEY_FILE)] {
            let bytes = std::fs::read(&path).map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
            files.push((format!("{}/{file}", crate::state::CERTS_DIR), bytes, 0o600));
        }
        // Its tenants' secrets, and those of the HA tenants it holds a copy of (its agent
        // connects to that copy, the standby to its primary).
        for (id, _) in tenants.tenants.iter().filter(|(_, t)| t.members().iter().any(|m| m == name)) {
            if let Some(secrets) = self.state.secrets(id)? {
                let bytes = serde_json::to_vec(&secrets)?;
                files.push((crate::state::secrets_file(id), bytes, 0o600));
            }
        }
        let mut tar = crate::docker::archive::Archive::new();
        for (dir, mode) in
            [(crate::state::CERTS_DIR, 0o700), (crate::state::SECRETS_DIR, 0o700), (crate::state::SOCKETS_DIR, 0o755)]
        {
            tar.dir(dir, mode)?;
        }
        for (path, bytes, mode) in files {
            tar.file(&path, &bytes, mode)?;
        }
        Ok(tar.finish()?)
    }

    /// Waits until the manager lists swarm node `id` as `ready`.
    async fn wait_node_ready(&self, docker: &Docker, id: &str) -> Result<SwarmNode> {
        let started = Instant::now();
        loop {
            let seen = docker.swarm_nodes().await?.into_iter().find(|n| n.id == id);
            match seen {
                Some(n) if n.state == "ready" => return Ok(n),
                seen if started.elapsed() > JOIN_WAIT => fail!(
                    Timeout,
                    "node {id} is not ready in the swarm after {}s (it is {})",
                    JOIN_WAIT.as_secs(),
                    seen.map_or("not listed".to_string(), |n| n.state)
                ),
                _ => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }

    /// The node a new tenant goes to: `requested`, or with a swarm the `ready`, `active` node
    /// with the most memory not yet promised to tenants, then the fewest tenants. `None` is the
    /// manager's own host (always, without a swarm).
    pub async fn place(&self, docker: &Docker, requested: Option<&str>) -> Result<Option<String>> {
        let config = self.state.config()?;
        if config.swarm.is_none() {
            if let Some(node) = requested {
                fail!(Invalid, "--node {node}: there is no swarm (`pgs swarm init`, then `pgs node add`)");
            }
            return Ok(None);
        }
        let nodes = self.node_list(docker).await?;
        let usable = |n: &&NodeInfo| n.state == "ready" && n.availability == "active";
        let chosen = match requested {
            Some(name) => {
                let Some(node) = nodes.iter().find(|n| n.name == name) else {
                    fail!(Invalid, "there is no node {name} (`pgs node list`)")
                };
                if !usable(&node) {
                    fail!(
                        Failing,
                        "node {name} is {} ({}): no tenant can be made there now",
                        node.state,
                        node.availability
                    );
                }
                node
            }
            None => match nodes.iter().filter(usable).max_by_key(|n| (n.memory_free, std::cmp::Reverse(n.tenants))) {
                Some(node) => node,
                None => fail!(Failing, "no node is ready and active (`pgs node list`)"),
            },
        };
        Ok((!chosen.manager).then(|| chosen.name.clone()))
    }

    /// After a change to the tenants (access, allowlist, pool): tells the gateways of the other
    /// nodes, if there is a swarm (the manager's gateway reads the state dir itself).
    pub async fn tell_nodes(&self) -> Result<()> {
        if self.state.config()?.swarm.is_some_and(|s| !s.nodes.is_empty()) {
            self.sync_nodes(&Docker::connect().await?).await;
        }
        Ok(())
    }

    /// Brings the gateway of node `name`, or of every node, up to date now
    /// ([`Platform::sync_node`]); fails if any node could not be brought up to date. Returns
    /// the nodes done.
    pub async fn node_sync(&self, docker: &Docker, name: Option<&str>) -> Result<Vec<String>> {
        let config = self.state.config()?;
        let Some(swarm) = &config.swarm else { fail!(Invalid, "there is no swarm: run `pgs swarm init` first") };
        let names: Vec<String> = match name {
            Some(name) => vec![node_record(&config, name).map(|_| name.to_string())?],
            None => swarm.nodes.keys().cloned().collect(),
        };
        let failed: Vec<String> =
            self.sync_all(docker, &names).await.into_iter().map(|(name, e)| format!("node {name}: {e}")).collect();
        if !failed.is_empty() {
            fail!(Failing, "{}", failed.join("; "));
        }
        Ok(names)
    }

    /// Brings every other node's gateway up to date ([`Platform::sync_node`]): every gateway
    /// routes every tenant, its own to their sockets and the others to their nodes. A node
    /// that cannot be reached keeps serving its previous routes; the failure is shown, not
    /// returned, so that a node that is down does not stop changes on the others.
    pub async fn sync_nodes(&self, docker: &Docker) {
        let names: Vec<String> = match self.state.config() {
            Ok(config) => config.swarm.map(|s| s.nodes.into_keys().collect()).unwrap_or_default(),
            Err(_) => return,
        };
        for (name, e) in self.sync_all(docker, &names).await {
            crate::progress::note(&format!(
                "node {name} was not told of the change ({e}): it serves its previous routes until the next change"
            ));
        }
    }

    /// Syncs nodes `names` at once ([`Platform::sync_node`]); returns those that failed, with
    /// why.
    async fn sync_all<'a>(&self, docker: &Docker, names: &'a [String]) -> Vec<(&'a String, super::Error)> {
        if names.is_empty() {
            return Vec::new();
        }
        // Hashed (and built, if this binary is new) once for all the nodes.
        let image = match docker.ensure_gateway_image().await {
            Ok(image) => image,
            Err(e) => return names.iter().map(|n| (n, Error::Failing(e.to_string()))).collect(),
        };
        let image = &image;
        let syncs = names.iter().map(|name| async move { (name, self.sync_node(docker, name, image).await) });
        let failed: Vec<_> = futures_util::future::join_all(syncs)
            .await
            .into_iter()
            .filter_map(|(n, r)| r.err().map(|e| (n, e)))
            .collect();
        // Which nodes missed the change, for `pgs node list` (written only when that changes).
        let stale = |name: &String| failed.iter().any(|(n, _)| *n == name);
        let changes = match self.state.config() {
            Ok(config) => config.swarm.is_some_and(|s| {
                names.iter().any(|n| s.nodes.get(n).is_some_and(|r| r.stale_since.is_some() != stale(n)))
            }),
            Err(_) => false,
        };
        if changes {
            let marked = self.update_swarm(|swarm| {
                for (name, record) in swarm.iter_mut().flat_map(|s| s.nodes.iter_mut()) {
                    if names.contains(name) {
                        record.stale_since = if stale(name) { record.stale_since.or(Some(now())) } else { None };
                    }
                }
                Ok(())
            });
            if let Err(e) = marked {
                crate::progress::note(&format!("cannot record which nodes missed the change: {e}"));
            }
        }
        failed
    }

    /// Every node, with its state from one request to the swarm manager.
    pub async fn node_list(&self, docker: &Docker) -> Result<Vec<NodeInfo>> {
        let config = self.state.config()?;
        let Some(swarm) = &config.swarm else { fail!(Invalid, "there is no swarm: run `pgs swarm init` first") };
        let tenants = self.state.tenants()?;
        let seen = docker.swarm_nodes().await?;
        let count = |node: &str| {
            let on = tenants.tenants.values().filter(|t| t.node.as_deref().unwrap_or(MANAGER_NODE) == node);
            let promised = on.clone().map(|t| t.memory.unwrap_or(UNLIMITED_TENANT_MEMORY)).sum::<i64>();
            (on.count(), promised)
        };
        let local = seen.iter().find(|n| n.id == swarm.manager_id);
        let (n, promised) = count(MANAGER_NODE);
        let mut list = vec![node_info(MANAGER_NODE, None, local, n, promised)];
        for (name, record) in &swarm.nodes {
            let (n, promised) = count(name);
            list.push(node_info(name, Some(record), seen.iter().find(|s| s.id == record.swarm_id), n, promised));
        }
        Ok(list)
    }

    /// Removes node `name`, which must have no tenants: it leaves the swarm (if its engine
    /// still answers) and the manager forgets it.
    pub async fn node_remove(&self, docker: &Docker, name: &str) -> Result<()> {
        let config = self.state.config()?;
        let Some(swarm) = &config.swarm else { fail!(Invalid, "there is no swarm: run `pgs swarm init` first") };
        if name == MANAGER_NODE {
            fail!(Invalid, "{MANAGER_NODE} is the manager, where the state dir is: it cannot be removed");
        }
        let Some(record) = swarm.nodes.get(name) else { fail!(Invalid, "there is no node {name} (`pgs node list`)") };
        let on: Vec<String> = self
            .state
            .tenants()?
            .tenants
            .iter()
            .filter(|(_, t)| t.node.as_deref() == Some(name))
            .map(|(id, _)| id.to_string())
            .collect();
        if !on.is_empty() {
            fail!(Conflict, "node {name} still has tenants ({}): move or remove them first", on.join(", "));
        }
        match Docker::connect_to(&record.docker_host).await {
            Ok(node) => node.swarm_leave(false).await?,
            Err(e) => crate::progress::note(&format!("{e}: removing {name} from the swarm without it")),
        }
        docker.remove_swarm_node(&record.swarm_id, true).await?;
        self.update_swarm(|swarm| {
            if let Some(swarm) = swarm.as_mut() {
                swarm.nodes.remove(name);
            }
            Ok(())
        })?;
        Ok(())
    }
}

fn node_info(
    name: &str,
    record: Option<&NodeRecord>,
    seen: Option<&SwarmNode>,
    tenants: usize,
    promised: i64,
) -> NodeInfo {
    let memory = seen.map_or(0, |s| s.memory);
    NodeInfo {
        name: name.to_string(),
        swarm_id: seen.map(|s| s.id.clone()).or_else(|| record.map(|r| r.swarm_id.clone())).unwrap_or_default(),
        state: seen.map_or_else(|| "removed".to_string(), |s| s.state.clone()),
        availability: seen.map_or_else(String::new, |s| s.availability.clone()),
        address: seen.map(|s| s.addr.clone()).or_else(|| record.map(|r| r.address.clone())).unwrap_or_default(),
        manager: record.is_none(),
        tenants,
        memory,
        memory_free: (memory - promised).max(0),
        docker_host: record.map(|r| r.docker_host.clone()),
        stale_since: record.and_then(|r| r.stale_since),
    }
}
