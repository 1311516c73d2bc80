//! The containers of high availability (docs/high-availability.md): one etcd member and one
//! agent per node, both on the host network (etcd's peers and the agents' replication relay
//! talk between hosts; neither is a tenant).

use bollard::models::{HostConfig, Mount, MountTypeEnum};

use super::{Docker, DockerError, managed_labels as labels, restart_unless_stopped as restart};

/// Name of a node's etcd member container.
pub const ETCD_CONTAINER: &str = "pgs-etcd";
/// Name of a node's agent container.
pub const AGENT_CONTAINER: &str = "pgs-agent";
/// Repository of the etcd image derived from the tenant image.
pub const ETCD_IMAGE_REPO: &str = "pgs-etcd";
/// Where the etcd member keeps its data inside its container.
const ETCD_DATA: &str = "/var/lib/pgs-etcd";
/// Revision of [`etcd_dockerfile`]: a change to it makes new derived images.
const ETCD_IMAGE_REVISION: u32 = 1;

/// The tag of the etcd image derived from the base image with id `base_id`.
pub fn etcd_tag(base_id: &str) -> String {
    let hex = base_id.trim_start_matches("sha256:");
    format!("{ETCD_IMAGE_REPO}:{}-r{ETCD_IMAGE_REVISION}", &hex[..hex.len().min(12)])
}

/// A Dockerfile deriving an image with etcd (Debian's `etcd-server`) from `base`, a Debian
/// based image (the tenant image): no registry is needed, only the package mirror.
pub fn etcd_dockerfile(base: &str) -> String {
    format!(
        r#"FROM {base}
USER root
RUN set -e; \
    if ! command -v etcd >/dev/null; then \
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends etcd-server >/dev/null \
        && rm -rf /var/lib/apt/lists/*; \
    fi; \
    etcd --version | head -1; mkdir -p {ETCD_DATA}
ENTRYPOINT []
"#
    )
}

/// The name of the volume an etcd member of installation `instance` keeps its data in.
pub fn etcd_volume(instance: &str) -> String {
    format!("pgs-etcd-{instance}")
}

/// One etcd member.
#[derive(Debug, Clone)]
pub struct EtcdSpec {
    /// Installation id (label, cluster token).
    pub instance: String,
    /// The derived image ([`etcd_tag`]).
    pub image: String,
    /// The member's name: the node's.
    pub name: String,
    /// The node's address, which the other members and the agents reach.
    pub address: String,
    /// Client port.
    pub client_port: u16,
    /// Peer port.
    pub peer_port: u16,
    /// Every member as `name=http://address:peer_port`, comma-separated.
    pub initial_cluster: String,
}

/// One node's agent.
#[derive(Debug, Clone)]
pub struct AgentSpec {
    /// Installation id (label).
    pub instance: String,
    /// The gateway image (the pgs binary).
    pub image: String,
    /// The node's name.
    pub node: String,
    /// Host path of the node's dir (the state dir on the manager).
    pub state_dir: String,
    /// Host path of the node engine's socket.
    pub docker_socket: String,
}

impl Docker {
    /// Creates (does not start) a node's etcd member: host network, its data in a volume of its
    /// own, fast elections (heartbeat 100 ms, election timeout 1 s: the nodes of an
    /// installation are near each other).
    pub async fn create_etcd_container(&self, spec: &EtcdSpec) -> Result<(), DockerError> {
        let volume = etcd_volume(&spec.instance);
        if !self.volume_exists(&volume).await? {
            self.create_volume(&volume, &labels(&spec.instance, "etcd")).await?;
        }
        let (addr, client, peer) = (&spec.address, spec.client_port, spec.peer_port);
        let cmd: Vec<String> = [
            "etcd".to_string(),
            format!("--name={}", spec.name),
            format!("--data-dir={ETCD_DATA}/data"),
            format!("--listen-client-urls=http://{addr}:{client},http://127.0.0.1:{client}"),
            format!("--advertise-client-urls=http://{addr}:{client}"),
            format!("--listen-peer-urls=http://{addr}:{peer}"),
            format!("--initial-advertise-peer-urls=http://{addr}:{peer}"),
            format!("--initial-cluster={}", spec.initial_cluster),
            "--initial-cluster-state=new".to_string(),
            format!("--initial-cluster-token=pgs-{}", spec.instance),
            "--heartbeat-interval=100".to_string(),
            "--election-timeout=1000".to_string(),
            "--log-level=warn".to_string(),
        ]
        .to_vec();
        let host_config = HostConfig {
            network_mode: Some("host".to_string()),
            restart_policy: restart(),
            mounts: Some(vec![Mount {
                target: Some(ETCD_DATA.to_string()),
                source: Some(volume),
                typ: Some(MountTypeEnum::VOLUME),
                ..Default::default()
            }]),
            ..Default::default()
        };
        let config = bollard::container::Config {
            image: Some(spec.image.clone()),
            entrypoint: Some(Vec::new()),
            cmd: Some(cmd),
            labels: Some(labels(&spec.instance, "etcd")),
            host_config: Some(host_config),
            ..Default::default()
        };
        let opts = bollard::container::CreateContainerOptions { name: ETCD_CONTAINER.to_string(), platform: None };
        self.api().create_container(Some(opts), config).await.map_err(|e| self.err("create the etcd member", e))?;
        Ok(())
    }

    /// Creates (does not start) a node's agent: host network (its relay port), root (it drives
    /// the node's engine through its socket and writes into the tenants' socket dirs), the
    /// node's dir as its state dir.
    pub async fn create_agent_container(&self, spec: &AgentSpec) -> Result<(), DockerError> {
        let binds = vec![
            format!("{}:{}", spec.state_dir, super::gateway::STATE_MOUNT),
            format!("{}:/var/run/docker.sock", spec.docker_socket),
        ];
        let host_config = HostConfig {
            network_mode: Some("host".to_string()),
            restart_policy: restart(),
            binds: Some(binds),
            ..Default::default()
        };
        let config = bollard::container::Config {
            image: Some(spec.image.clone()),
            cmd: Some(["agent", "run", "--node", &spec.node].map(String::from).to_vec()),
            env: Some(vec![
                format!("PGS_HOME={}", super::gateway::STATE_MOUNT),
                "DOCKER_HOST=unix:///var/run/docker.sock".to_string(),
                // The host's path of its dir, for the bind mounts of the one-offs it runs.
                format!("PGS_HOST_HOME={}", spec.state_dir),
            ]),
            user: Some("0:0".to_string()),
            labels: Some(labels(&spec.instance, "agent")),
            stop_signal: Some("SIGTERM".to_string()),
            stop_timeout: Some(5),
            host_config: Some(host_config),
            ..Default::default()
        };
        let opts = bollard::container::CreateContainerOptions { name: AGENT_CONTAINER.to_string(), platform: None };
        self.api().create_container(Some(opts), config).await.map_err(|e| self.err("create the agent", e))?;
        Ok(())
    }

    /// Sends `signal` to container `name` (`SIGKILL`: fencing).
    pub async fn kill_container(&self, name: &str, signal: &str) -> Result<(), DockerError> {
        let opts = bollard::container::KillContainerOptions { signal: signal.to_string() };
        match self.api().kill_container(name, Some(opts)).await {
            Ok(()) => Ok(()),
            // Not running (409) or gone (404): nothing to fence.
            Err(e) => {
                let e = self.err(&format!("kill {name}"), e);
                if e.is_conflict() || e.is_not_found() { Ok(()) } else { Err(e) }
            }
        }
    }

    /// The host path of the Unix socket this engine is reached on (`/var/run/docker.sock` for
    /// one reached over TCP: the engine's usual socket on its own host).
    pub fn socket_path(&self) -> String {
        match &self.address {
            super::Address::Unix(path) => path.to_string_lossy().into_owned(),
            super::Address::Tcp(_) => "/var/run/docker.sock".to_string(),
        }
    }
}
