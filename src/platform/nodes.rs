//! More than one host: `pgs swarm init` and `pgs node add|list|remove` (`docs/scale-out.md`).
//! The manager's state dir stays the one truth; the swarm gives node identity, addresses and
//! liveness. A node is known by the name pgs gave it (a Swarm node label), never by its host
//! name, which two engines on one machine share.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::{Platform, Result, fail, now};
use crate::docker::Docker;
use crate::docker::swarm::{LABEL_NODE, SwarmNode};
use crate::state::{MANAGER_NODE, NodeRecord, SwarmSettings, TenantId};

/// Overlay subnets the swarm may hand out, the first that no network of the engine overlaps:
/// Swarm's default (10.0.0.0/8) would shadow most private networks a host is on.
const SWARM_POOLS: [&str; 4] = ["10.251.0.0/16", "10.252.0.0/16", "172.30.0.0/16", "192.168.250.0/24"];

/// How long `node add` waits for a joined engine to be `ready` in the swarm.
const JOIN_WAIT: Duration = Duration::from_secs(60);

/// Memory a tenant without `--memory` is counted with when nodes are compared.
pub const UNLIMITED_TENANT_MEMORY: i64 = 256 << 20;

/// A node as `pgs node list` shows it.
#[derive(Debug, Clone, Serialize)]
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
                    anyhow::anyhow!(
                        "{e}{}",
                        if advertise_addr.is_none() {
                            " (pass --advertise-addr: the address other hosts reach this one on)"
                        } else {
                            ""
                        }
                    )
                })?;
                drop(step);
                id
            }
            other => fail!(Invalid, "this engine's swarm is {other}: fix it with `docker swarm` first"),
        };
        docker.label_swarm_node(&manager_id, LABEL_NODE, MANAGER_NODE).await?;
        let advertised =
            docker.swarm_nodes().await?.into_iter().find(|n| n.id == manager_id).map(|n| n.addr).unwrap_or_default();
        let swarm = SwarmSettings { manager_id, advertise_addr: advertised, nodes: Default::default() };
        let saved = swarm.clone();
        self.update_swarm(|swarm| {
            *swarm = Some(saved);
            Ok(())
        })?;
        Ok(swarm)
    }

    /// Changes the swarm settings under the state lock.
    fn update_swarm(&self, f: impl FnOnce(&mut Option<SwarmSettings>) -> Result<()>) -> Result<()> {
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
                anyhow::anyhow!(
                    "every address pool pgs would give the swarm ({}) is in use here",
                    SWARM_POOLS.join(", ")
                )
                .into()
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
    ) -> Result<NodeInfo> {
        let name = TenantId::parse(name).map_err(|e| anyhow::anyhow!("invalid node name: {e}"))?.to_string();
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
        let record = NodeRecord {
            docker_host: docker_host.to_string(),
            swarm_id: swarm_id.clone(),
            address: joined.addr.clone(),
            added_at: now(),
        };
        let saved = record.clone();
        let node_name = name.clone();
        self.update_swarm(|swarm| {
            let swarm = swarm.as_mut().ok_or_else(|| anyhow::anyhow!("the swarm left the config meanwhile"))?;
            if swarm.nodes.contains_key(&node_name) {
                fail!(Conflict, "there is a node {node_name} already (added meanwhile)");
            }
            swarm.nodes.insert(node_name, saved);
            Ok(())
        })?;
        Ok(node_info(&name, Some(&record), Some(&joined), 0, 0))
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
    }
}
