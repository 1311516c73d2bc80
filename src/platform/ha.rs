//! High availability verbs (docs/high-availability.md): `pgs ha init|enable|disable|status`,
//! `pgs switchover`. The store (etcd, one member per node) says who is primary; the agents
//! act on it; these verbs set it up and ask.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::{Error, Platform, Result, fail, now};
use crate::docker::Docker;
use crate::docker::ha::{AGENT_CONTAINER, AgentSpec, ETCD_CONTAINER, EtcdSpec};
use crate::ha::keys::{self, Failover, Replication, TenantState};
use crate::ha::store::Store;
use crate::state::{Config, Durability, HaSettings, MANAGER_NODE, StoreSettings, Tenant, TenantId};

/// etcd's client port.
pub const STORE_CLIENT_PORT: u16 = 2379;
/// etcd's peer port.
pub const STORE_PEER_PORT: u16 = 2380;
/// The agents' replication relay port.
pub const RELAY_PORT: u16 = 5434;
/// How long a new store may take to elect a leader.
const STORE_WAIT: Duration = Duration::from_secs(60);

/// What `pgs ha init` made.
#[derive(Debug, Clone, Serialize)]
pub struct StoreReport {
    /// The members, by node name.
    pub members: Vec<String>,
    /// Their client URLs.
    pub endpoints: Vec<String>,
    /// Whether the store answers with a quorum.
    pub healthy: bool,
}

/// One HA tenant as `pgs ha status` shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HaStatus {
    /// Tenant id.
    pub tenant: String,
    /// What a commit waits for.
    pub durability: Durability,
    /// Increases with every change of primary.
    pub epoch: u64,
    /// `ok`, or `no quorum` when the store does not answer.
    pub store: String,
    /// The primary.
    pub primary: Role,
    /// The standby.
    pub standby: Role,
    /// The last change of primary.
    pub last_failover: Option<Failover>,
    /// Why the last failover or switchover was refused, if one was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
}

/// One copy.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Role {
    /// Its node.
    pub node: String,
    /// `running` (a primary holding the lead), `streaming` (a standby), `failing over`, `down`.
    pub state: String,
    /// For the standby: whether commits wait for it now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync: Option<bool>,
    /// For the standby: bytes of WAL it has not flushed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lag_bytes: Option<u64>,
    /// For the standby: seconds of replay lag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lag_seconds: Option<f64>,
}

impl HaStatus {
    /// The role set as `pgs list` shows it: `primary@n1 + standby@n2 (sync)`, or what is wrong.
    pub fn roles(&self) -> String {
        if self.store != "ok" {
            return format!("store: {}", self.store);
        }
        if self.primary.state == "failing over" {
            return format!("failing over (standby@{})", self.standby.node);
        }
        let standby = match (self.standby.state.as_str(), self.standby.sync) {
            ("streaming", Some(true)) => "(sync)".to_string(),
            ("streaming", _) => "(not synchronous)".to_string(),
            (state, _) => format!("({state})"),
        };
        format!("primary@{} + standby@{} {standby}", self.primary.node, self.standby.node)
    }
}

/// What `pgs switchover` did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SwitchoverReport {
    /// Tenant id.
    pub tenant: String,
    /// The old primary's node.
    pub from: String,
    /// The new primary's node.
    pub to: String,
    /// How long writes were refused, in milliseconds (the old primary's stop to the new one's
    /// promotion).
    pub write_gap_ms: Option<u64>,
}

/// What `pgs node drain` did.
#[derive(Debug, Clone, Serialize)]
pub struct DrainReport {
    /// The node drained.
    pub node: String,
    /// The switchovers, one per HA tenant whose primary was there.
    pub switched: Vec<SwitchoverReport>,
    /// Tenants without HA that live there (down while the node is).
    pub staying: Vec<String>,
}

impl Platform {
    /// The store's client, if there is a store.
    fn store(&self, config: &Config) -> Result<Store> {
        if config.swarm.as_ref().and_then(|s| s.store.as_ref()).is_none() {
            fail!(Invalid, "there is no HA store yet: run `pgs ha init` (it needs a swarm of three nodes)");
        }
        Ok(Store::new(config.store_endpoints(), Duration::from_secs(2)))
    }

    /// `pgs ha init`: an etcd member and an agent on every node (the manager and at least two
    /// more).
    pub async fn ha_init(&self, docker: &Docker) -> Result<StoreReport> {
        let config = self.state.config()?;
        let Some(swarm) = &config.swarm else {
            fail!(Invalid, "high availability needs a swarm: `pgs swarm init`, then `pgs node add` two nodes")
        };
        let members: Vec<String> =
            std::iter::once(MANAGER_NODE.to_string()).chain(swarm.nodes.keys().cloned()).collect();
        if members.len() < 3 {
            fail!(
                Invalid,
                "the HA store needs three nodes (the manager and two added with `pgs node add`); there are {}",
                members.len()
            );
        }
        let base = config.image.clone();
        let Some(base_id) = docker.image_id(&base).await? else {
            fail!(Invalid, "image {base} is not available locally")
        };
        let image = crate::docker::ha::etcd_tag(&base_id);
        if docker.image_id(&image).await?.is_none() {
            crate::progress::note(&format!("deriving {image} from {base} with etcd (once per base image)"));
            let labels =
                std::collections::HashMap::from([(crate::docker::LABEL_MANAGED.to_string(), "true".to_string())]);
            docker.build(&image, &crate::docker::ha::etcd_dockerfile(&base), labels).await?;
        }
        let settings = match swarm.store.clone() {
            Some(s) => s,
            None => StoreSettings {
                members: members.clone(),
                client_port: STORE_CLIENT_PORT,
                peer_port: STORE_PEER_PORT,
                relay_port: RELAY_PORT,
                created_at: now(),
            },
        };
        let saved = settings.clone();
        self.update_swarm(move |swarm| {
            let swarm = swarm.as_mut().ok_or_else(|| Error::Conflict("the swarm left the config meanwhile".into()))?;
            swarm.store = Some(saved);
            Ok(())
        })?;
        let config = self.state.config()?;
        let cluster: Vec<String> = settings
            .members
            .iter()
            .filter_map(|m| Some(format!("{m}=http://{}:{}", config.node_address(m)?, settings.peer_port)))
            .collect();
        let step = crate::progress::step(&format!("starting the store's members on {}", settings.members.join(", ")));
        for member in &settings.members {
            let engine = self.engine_named(docker, &config, member).await?;
            if !engine.has_image(&image).await? {
                docker.copy_image(&image, &engine).await?;
            }
            if engine.inspect_container(ETCD_CONTAINER).await?.is_none() {
                let spec = EtcdSpec {
                    instance: config.instance.clone(),
                    image: image.clone(),
                    name: member.clone(),
                    address: config.node_address(member).unwrap_or_default(),
                    client_port: settings.client_port,
                    peer_port: settings.peer_port,
                    initial_cluster: cluster.join(","),
                };
                engine.create_etcd_container(&spec).await?;
            }
            engine.start_container(ETCD_CONTAINER).await?;
        }
        let store = self.store(&config)?;
        let started = Instant::now();
        while !store.healthy().await {
            if started.elapsed() > STORE_WAIT {
                fail!(
                    Timeout,
                    "the store has no quorum after {}s: see `docker logs {ETCD_CONTAINER}` on the nodes",
                    STORE_WAIT.as_secs()
                );
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        drop(step);
        // The nodes' config names the store now; then the agents.
        self.sync_nodes(docker).await;
        self.ensure_agents(docker).await?;
        Ok(StoreReport { members: settings.members.clone(), endpoints: config.store_endpoints(), healthy: true })
    }

    /// What HA needs of the installation, before anything is made: a store, and, for a tenant
    /// with `backups`, a repository that survives the loss of either node (S3).
    pub fn ha_requirements(&self, backups: bool) -> Result<()> {
        let config = self.state.config()?;
        self.store(&config)?;
        if backups && config.backups.as_ref().is_some_and(|b| b.s3.is_none()) {
            fail!(
                Invalid,
                "HA tenants need their backups where the loss of a node does not take them: the repository here is \
                 local (on the tenant's node); `pgs setup --backups s3 ...` moves new backups to S3"
            );
        }
        Ok(())
    }

    /// The node where HA tenant `id` serves writes now, as the store names it (its own node
    /// before the first failover).
    async fn primary_node(&self, config: &Config, id: &TenantId, tenant: &Tenant) -> Result<String> {
        let store = self.store(config)?;
        let key = keys::key(&config.instance, id.as_str(), keys::STATE);
        let state = store.get(&key).await.map_err(|e| {
            Error::Unreachable(format!(
                "cannot tell which node holds the primary of {id}: the HA store does not answer ({e}); \
                 `pgs ha status {id}` says more"
            ))
        })?;
        Ok(state
            .and_then(|kv| serde_json::from_str::<TenantState>(&kv.value).ok())
            .map(|s| s.primary)
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| tenant.home_node().to_string()))
    }

    /// The engine where tenant `id` serves writes now: an HA tenant's primary's node (after a
    /// failover not its own), any other tenant's own node. Backups run there.
    pub(super) async fn serving_engine(
        &self,
        docker: &Docker,
        config: &Config,
        id: &TenantId,
        tenant: &Tenant,
    ) -> Result<Docker> {
        if tenant.ha.is_none() {
            return self.engine_of(docker, config, tenant).await;
        }
        let node = self.primary_node(config, id, tenant).await?;
        self.engine_named(docker, config, &node).await
    }

    /// The engine of node `name` (`docker` for the manager).
    async fn engine_named(&self, docker: &Docker, config: &Config, name: &str) -> Result<Docker> {
        if name == MANAGER_NODE { Ok(docker.clone()) } else { self.node_engine(config, name).await }
    }

    /// Makes sure every node runs the agent of this binary (after `ha init`, `node add`, an
    /// upgrade).
    pub async fn ensure_agents(&self, docker: &Docker) -> Result<()> {
        let config = self.state.config()?;
        let Some(store) = config.swarm.as_ref().and_then(|s| s.store.as_ref()) else { return Ok(()) };
        let image = docker.ensure_gateway_image().await?;
        for member in store.members.clone() {
            self.ensure_agent(docker, &config, &member, &image).await?;
        }
        Ok(())
    }

    /// Makes sure node `node` runs the agent from `image` (replaced if it runs another).
    pub(super) async fn ensure_agent(&self, docker: &Docker, config: &Config, node: &str, image: &str) -> Result<()> {
        let engine = self.engine_named(docker, config, node).await?;
        if let Some(image_now) = engine.container_image(AGENT_CONTAINER).await? {
            if image_now == image {
                engine.start_container(AGENT_CONTAINER).await?;
                return Ok(());
            }
            engine.remove_container(AGENT_CONTAINER).await?;
        }
        if !engine.has_image(image).await? {
            docker.copy_image(image, &engine).await?;
        }
        let state_dir = if node == MANAGER_NODE {
            self.state.root().to_string_lossy().into_owned()
        } else {
            super::nodes::node_record(config, node)?.data_dir
        };
        let spec = AgentSpec {
            instance: config.instance.clone(),
            image: image.to_string(),
            node: node.to_string(),
            state_dir,
            docker_socket: engine.socket_path(),
        };
        engine.create_agent_container(&spec).await?;
        engine.start_container(AGENT_CONTAINER).await?;
        Ok(())
    }

    /// Checks that `tenant` (living on `home`) may get a standby on `standby` (or picks one):
    /// a store, another node that is ready, no local backups. Returns the standby node.
    pub async fn ha_precheck(
        &self,
        docker: &Docker,
        home: &str,
        standby: Option<&str>,
        backups: bool,
    ) -> Result<String> {
        self.ha_requirements(backups)?;
        let nodes = self.node_list(docker).await?;
        let usable = |n: &&super::nodes::NodeInfo| n.state == "ready" && n.availability == "active" && n.name != home;
        let chosen = match standby {
            Some(name) if name == home => {
                fail!(
                    Invalid,
                    "the standby must be on another node than the primary ({home}): choose another --standby-node"
                )
            }
            Some(name) => match nodes.iter().find(|n| n.name == name) {
                Some(n) if usable(&n) => n.name.clone(),
                Some(n) => {
                    fail!(Failing, "node {name} is {} ({}): it cannot hold a standby now", n.state, n.availability)
                }
                None => fail!(Invalid, "there is no node {name} (`pgs node list`)"),
            },
            None => match nodes.iter().filter(usable).max_by_key(|n| (n.memory_free, std::cmp::Reverse(n.tenants))) {
                Some(n) => n.name.clone(),
                None => {
                    fail!(Invalid, "--ha needs two nodes able to hold the tenant; only {home} is (`pgs node list`)")
                }
            },
        };
        Ok(chosen)
    }

    /// `pgs ha enable`: a synchronous standby of tenant `id` on another node, streamed from the
    /// running primary (no downtime).
    pub async fn ha_enable(
        &self,
        docker: &Docker,
        id: &str,
        standby: Option<&str>,
        durability: Durability,
    ) -> Result<HaStatus> {
        let (config, id, tenant) = self.tenant(id)?;
        if tenant.ha.is_some() {
            fail!(Conflict, "tenant {id} has high availability already (`pgs ha status {id}`)");
        }
        if tenant.suspend_after.is_some() {
            fail!(
                Invalid,
                "tenant {id} scales to zero, and a suspended primary would fail over: `pgs suspend-policy {id} --never` first"
            );
        }
        let home = tenant.home_node().to_string();
        let standby = self.ha_precheck(docker, &home, standby, tenant.backups).await?;
        let store = self.store(&config)?;
        // The store first: the home node's agent takes the lead as soon as the routes name
        // the tenant HA.
        for name in [keys::LEADER, keys::SWITCHOVER, keys::REFUSAL, keys::REPLICATION] {
            store.delete(&keys::key(&config.instance, id.as_str(), name)).await.map_err(store_err)?;
        }
        let initial = TenantState { epoch: 1, primary: home.clone(), ..Default::default() };
        store
            .put(&keys::key(&config.instance, id.as_str(), keys::STATE), &serde_json::to_string(&initial)?, None)
            .await
            .map_err(store_err)?;
        let settings = HaSettings { standby_node: standby.clone(), durability, enabled_at: now() };
        self.state.update(|_, tenants, _| -> Result<()> {
            let t = tenants.tenants.get_mut(&id).ok_or_else(|| Error::NoTenant(id.clone()))?;
            t.ha = Some(settings);
            crate::state::settings::add_ha(&mut t.settings);
            Ok(())
        })?;
        self.sync_nodes(docker).await;
        let result = self.make_standby(docker, &config, &store, &id, &tenant, &home, &standby).await;
        if let Err(e) = result {
            let _ = self.state.update(|_, tenants, _| -> Result<()> {
                if let Some(t) = tenants.tenants.get_mut(&id) {
                    t.ha = None;
                }
                Ok(())
            });
            self.sync_nodes(docker).await;
            return Err(Error::step(format!("tenant {id} keeps running without a standby"), e));
        }
        self.ha_status_of(&config, &store, &id).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn make_standby(
        &self,
        docker: &Docker,
        config: &Config,
        store: &Store,
        id: &TenantId,
        tenant: &Tenant,
        home: &str,
        standby: &str,
    ) -> Result<()> {
        let leader = keys::key(&config.instance, id.as_str(), keys::LEADER);
        let started = Instant::now();
        let step = crate::progress::step(&format!("waiting for the agent on {home} to lead {id}"));
        loop {
            if store.get(&leader).await.map_err(store_err)?.is_some_and(|kv| kv.value == home) {
                break;
            }
            if started.elapsed() > Duration::from_secs(30) {
                fail!(
                    Timeout,
                    "the agent on {home} did not take the lead of {id} within 30s: is it running (`docker logs {AGENT_CONTAINER}`)?"
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        drop(step);
        let engine = self.engine_named(docker, config, standby).await?;
        if !engine.has_image(&tenant.image).await? {
            docker.copy_image(&tenant.image, &engine).await?;
        }
        if tenant.backups {
            // The standby archives once promoted, with the image its primary archives with.
            self.copy_backup_image(docker, &engine, &tenant.image).await?;
        }
        let volume = tenant.data_volume(id);
        let labels = crate::docker::tenant::labels(&config.instance, id.as_str());
        if engine.volume_exists(&volume).await? {
            fail!(Conflict, "node {standby} holds a volume {volume} already: remove it there first");
        }
        engine.create_volume(&volume, &labels).await?;
        let socket_dir = if standby == MANAGER_NODE {
            self.state.create_socket_dir(id)?.to_string_lossy().into_owned()
        } else {
            format!("{}/sockets/{id}", super::nodes::node_record(config, standby)?.data_dir)
        };
        let secrets = self.stored_secrets(id)?;
        let spec = crate::ha::copy::CopySpec {
            tenant: id.to_string(),
            instance: config.instance.clone(),
            image: tenant.image.clone(),
            volume: volume.clone(),
            data_mount: tenant.data_mount.clone(),
            pgdata: engine.ensure_image(&tenant.image).await?.pgdata(),
            socket_dir,
            node: standby.to_string(),
            password: secrets.superuser_password,
            fresh: true,
        };
        let step = crate::progress::step(&format!("streaming a base backup of {id} to {standby}"));
        let copied = crate::ha::copy::run(&engine, &spec).await;
        drop(step);
        if let Err(e) = copied {
            let _ = engine.remove_volume(&volume).await;
            fail!(Failing, "the base backup to {standby} failed: {e}");
        }
        let standby_tenant = Tenant {
            node: (standby != MANAGER_NODE).then(|| standby.to_string()),
            settings: {
                let mut s = tenant.settings.clone();
                crate::state::settings::add_ha(&mut s);
                s
            },
            ..tenant.clone()
        };
        self.provision(&engine, config, id, standby_tenant, None, &mut super::Steps::new()).await?;
        let step = crate::progress::step(&format!("waiting for the standby on {standby} to be synchronous"));
        let replication = keys::key(&config.instance, id.as_str(), keys::REPLICATION);
        let started = Instant::now();
        loop {
            let seen: Option<Replication> =
                store.get(&replication).await.map_err(store_err)?.and_then(|kv| serde_json::from_str(&kv.value).ok());
            if seen.is_some_and(|r| r.state == "streaming" && r.sync) {
                break;
            }
            if started.elapsed() > Duration::from_secs(60) {
                fail!(Timeout, "the standby on {standby} is not synchronous after 60s (`pgs ha status {id}`)");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        drop(step);
        Ok(())
    }

    /// `pgs ha disable`: the tenant keeps its primary, where it runs now (after a failover its
    /// node becomes the tenant's own), and loses its standby. Returns the primary's node.
    pub async fn ha_disable(&self, docker: &Docker, id: &str) -> Result<String> {
        let (config, id, tenant) = self.tenant(id)?;
        let Some(ha) = tenant.ha.clone() else { fail!(Invalid, "tenant {id} has no high availability") };
        let store = self.store(&config)?;
        let status = self.ha_status_of(&config, &store, &id).await?;
        if status.store != "ok" || status.primary.state != "running" {
            fail!(
                Failing,
                "{id} has no primary to keep now ({}): try again when `pgs ha status {id}` shows one",
                status.roles()
            );
        }
        let kept = status.primary.node.clone();
        let other = if kept == tenant.home_node() { ha.standby_node.clone() } else { tenant.home_node().to_string() };
        self.state.update(|_, tenants, _| -> Result<()> {
            let t = tenants.tenants.get_mut(&id).ok_or_else(|| Error::NoTenant(id.clone()))?;
            t.ha = None;
            t.node = (kept != MANAGER_NODE).then(|| kept.clone());
            Ok(())
        })?;
        self.sync_nodes(docker).await;
        for name in [keys::LEADER, keys::STATE, keys::SWITCHOVER, keys::REFUSAL, keys::REPLICATION] {
            store.delete(&keys::key(&config.instance, id.as_str(), name)).await.map_err(store_err)?;
        }
        // Commits must not wait for a standby that goes away.
        let primary = self.engine_named(docker, &config, &kept).await?;
        let reset = ["-c", "ALTER SYSTEM RESET synchronous_standby_names", "-c", "SELECT pg_reload_conf()"];
        self.superuser_psql(&primary, &id, &reset, Duration::from_secs(20))
            .await
            .map_err(|e| Error::step(format!("cannot make {id}'s commits asynchronous"), e))?;
        // The other copy goes. A node that is down keeps its copy, which serves nobody (no
        // gateway routes to it): the note says what to remove there when it is back.
        let removed = async {
            let engine = self.engine_named(docker, &config, &other).await?;
            engine.remove_container(&crate::state::container_name(&id)).await?;
            engine.remove_volume(&tenant.data_volume(&id)).await?;
            Ok::<_, Error>(())
        }
        .await;
        if let Err(e) = removed {
            crate::progress::note(&format!(
                "the copy of {id} on {other} stays there ({e}): remove container {} and volume {} on {other} when it is back",
                crate::state::container_name(&id),
                tenant.data_volume(&id)
            ));
        }
        Ok(kept)
    }

    /// `pgs ha status`: every HA tenant, or one.
    pub async fn ha_status(&self, id: Option<&str>) -> Result<Vec<HaStatus>> {
        let config = self.state.config()?;
        let store = self.store(&config)?;
        let ids: Vec<TenantId> = match id {
            Some(id) => {
                let (_, id, tenant) = self.tenant(id)?;
                if tenant.ha.is_none() {
                    fail!(Invalid, "tenant {id} has no high availability (`pgs ha enable {id}`)");
                }
                vec![id]
            }
            None => {
                self.state.tenants()?.tenants.into_iter().filter(|(_, t)| t.ha.is_some()).map(|(id, _)| id).collect()
            }
        };
        let all = self.all_keys(&config, &store).await;
        let tenants = self.state.tenants()?;
        let mut out = Vec::new();
        for id in ids {
            let tenant = tenants.tenants.get(&id).ok_or_else(|| Error::NoTenant(id.clone()))?;
            let kvs = all.as_ref().map(|all| all.get(id.as_str()).map(Vec::as_slice).unwrap_or_default());
            out.push(status_from(&id, tenant, kvs)?);
        }
        Ok(out)
    }

    /// Every HA key of the installation, by tenant and key name, in one request (`None`: the
    /// store does not answer).
    async fn all_keys(&self, config: &Config, store: &Store) -> Option<HashMap<String, Vec<(String, String)>>> {
        let kvs = store.get_prefix(&keys::prefix(&config.instance)).await.ok()?;
        let mut all: HashMap<String, Vec<(String, String)>> = HashMap::new();
        for kv in kvs {
            if let Some((tenant, name)) = keys::split(&config.instance, &kv.key) {
                all.entry(tenant.to_string()).or_default().push((name.to_string(), kv.value));
            }
        }
        Some(all)
    }

    /// One HA tenant's status, from the store alone.
    pub(super) async fn ha_status_of(&self, config: &Config, store: &Store, id: &TenantId) -> Result<HaStatus> {
        let (_, _, tenant) = self.tenant(id.as_str())?;
        let prefix = format!("{}{id}/", keys::prefix(&config.instance));
        let kvs: Option<Vec<(String, String)>> = store.get_prefix(&prefix).await.ok().map(|kvs| {
            kvs.into_iter()
                .filter_map(|kv| Some((keys::split(&config.instance, &kv.key)?.1.to_string(), kv.value)))
                .collect()
        });
        status_from(id, &tenant, kvs.as_deref())
    }

    /// `pgs switchover`: the standby becomes primary, planned (a clean stop of the primary
    /// first, so nothing is lost), and the old primary rejoins as its standby.
    pub async fn switchover(&self, id: &str, to: Option<&str>) -> Result<SwitchoverReport> {
        let (config, id, tenant) = self.tenant(id)?;
        if tenant.ha.is_none() {
            fail!(Invalid, "tenant {id} has no high availability: there is no standby to switch over to");
        }
        let store = self.store(&config)?;
        let status = self.ha_status_of(&config, &store, &id).await?;
        let target = status.standby.node.clone();
        if let Some(to) = to
            && to != target
        {
            fail!(Invalid, "node {to} has no standby of {id} (its standby is on {target})");
        }
        if status.standby.state != "streaming" || status.standby.sync != Some(true) {
            fail!(
                Failing,
                "the standby of {id} on {target} is not a streaming synchronous standby ({}): a switchover would lose writes or wait",
                status.standby.state
            );
        }
        let from = status.primary.node.clone();
        store
            .put(&keys::key(&config.instance, id.as_str(), keys::SWITCHOVER), &target, None)
            .await
            .map_err(store_err)?;
        let step = crate::progress::step(&format!("switching {id} over from {from} to {target}"));
        let started = Instant::now();
        loop {
            let now = self.ha_status_of(&config, &store, &id).await?;
            if now.primary.node == target
                && now.primary.state == "running"
                && let Some(gap) = now.last_failover.as_ref().and_then(|f| f.write_gap_ms)
            {
                drop(step);
                return Ok(SwitchoverReport { tenant: id.to_string(), from, to: target, write_gap_ms: Some(gap) });
            }
            if let Some(refusal) = now.refusal.filter(|r| r.starts_with("switchover")) {
                fail!(Failing, "{refusal}");
            }
            if started.elapsed() > Duration::from_secs(30) {
                fail!(Timeout, "the switchover of {id} did not finish within 30s (`pgs ha status {id}`)");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `pgs node drain NODE`: every HA primary on `node` switched over to its standby, so that
    /// the host can be rebooted. Tenants without HA on it stay (they are down while it is).
    pub async fn drain(&self, node: &str) -> Result<DrainReport> {
        let config = self.state.config()?;
        if node != MANAGER_NODE {
            super::nodes::node_record(&config, node)?;
        }
        let tenants = self.state.tenants()?;
        let mut report = DrainReport { node: node.to_string(), switched: Vec::new(), staying: Vec::new() };
        let has_ha = tenants.tenants.values().any(|t| t.ha.is_some());
        let store = if has_ha { Some(self.store(&config)?) } else { None };
        for (id, t) in &tenants.tenants {
            match (&t.ha, &store) {
                (Some(_), Some(store)) => {
                    let status = self.ha_status_of(&config, store, id).await?;
                    if status.primary.node == node {
                        report.switched.push(self.switchover(id.as_str(), None).await?);
                    }
                }
                _ if t.home_node() == node => report.staying.push(id.to_string()),
                _ => {}
            }
        }
        Ok(report)
    }

    /// The role sets of the HA tenants in `tenants`, for `pgs list` (one request to the store).
    pub(super) async fn ha_roles(&self, config: &Config, tenants: &crate::state::Tenants) -> HashMap<String, String> {
        let mut out = HashMap::new();
        if !tenants.tenants.values().any(|t| t.ha.is_some()) {
            return out;
        }
        let Ok(store) = self.store(config) else { return out };
        let all = self.all_keys(config, &store).await;
        for (id, t) in tenants.tenants.iter().filter(|(_, t)| t.ha.is_some()) {
            let kvs = all.as_ref().map(|all| all.get(id.as_str()).map(Vec::as_slice).unwrap_or_default());
            if let Ok(status) = status_from(id, t, kvs) {
                out.insert(id.to_string(), status.roles());
            }
        }
        out
    }

    /// Refuses verb `verb` on an HA tenant (its copies are the agents' to start and stop).
    pub(super) fn no_ha(&self, id: &TenantId, tenant: &Tenant, verb: &str) -> Result<()> {
        if tenant.ha.is_some() {
            fail!(
                Invalid,
                "tenant {id} has high availability: `pgs {verb}` is not for HA tenants yet; `pgs ha disable {id}` first"
            );
        }
        Ok(())
    }
}

/// HA tenant `id`'s status from its keys in the store, by name (`None`: the store does not
/// answer).
fn status_from(id: &TenantId, tenant: &Tenant, kvs: Option<&[(String, String)]>) -> Result<HaStatus> {
    let Some(ha) = &tenant.ha else { fail!(Invalid, "tenant {id} has no high availability") };
    let home = tenant.home_node().to_string();
    let get = |name: &str| kvs.and_then(|kvs| kvs.iter().find(|(n, _)| n == name)).map(|(_, v)| v.clone());
    let state: TenantState = get(keys::STATE)
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(TenantState { primary: home.clone(), ..Default::default() });
    let leader = get(keys::LEADER);
    let replication: Option<Replication> = get(keys::REPLICATION).and_then(|s| serde_json::from_str(&s).ok());
    let other = if state.primary == home { ha.standby_node.clone() } else { home.clone() };
    let primary_state = match (&kvs, &leader) {
        (None, _) => "unknown".to_string(),
        (_, Some(l)) if *l == state.primary => "running".to_string(),
        _ => "failing over".to_string(),
    };
    let standby = match (&kvs, &replication) {
        (None, _) | (_, None) => {
            Role { node: other, state: "unknown".into(), sync: None, lag_bytes: None, lag_seconds: None }
        }
        (_, Some(r)) => Role {
            node: other,
            state: if r.state == "down" { "down".into() } else { r.state.clone() },
            sync: Some(r.sync),
            lag_bytes: r.lag_bytes,
            lag_seconds: r.lag_seconds,
        },
    };
    Ok(HaStatus {
        tenant: id.to_string(),
        durability: ha.durability,
        epoch: state.epoch,
        store: if kvs.is_some() { "ok".into() } else { "no quorum".into() },
        primary: Role {
            node: state.primary.clone(),
            state: primary_state,
            sync: None,
            lag_bytes: None,
            lag_seconds: None,
        },
        standby,
        last_failover: state.last_failover,
        refusal: get(keys::REFUSAL),
    })
}

fn store_err(e: crate::ha::store::StoreError) -> Error {
    Error::Unreachable(format!("the HA store: {e}"))
}
