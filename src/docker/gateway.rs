//! The managed gateway: an image made from the running `pgs` binary (no registry needed) and a
//! container `pgs-gateway` running `pgs gateway run` in the host's network namespace, with the
//! state dir mounted read-only (but for its control-socket folder). Host networking lets a new
//! gateway container take the listening socket over from the old one (see
//! [`crate::state::HANDOVER_DIR`]): no port is published, so no two containers fight over one.
//!
//! The image holds the binary and exactly the shared libraries this process has loaded (read
//! from `/proc/self/maps`), plus the ELF interpreter, on an empty root: it runs wherever the
//! binary runs, whatever the host distribution, and is rebuilt only when the binary changes
//! (tagged with its version and a hash of its bytes).

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use bollard::models::{HostConfig, Mount, MountTypeEnum, RestartPolicy, RestartPolicyNameEnum};

use super::{Docker, DockerError, LABEL_INSTANCE};

/// Name of the managed gateway's container.
pub const CONTAINER: &str = "pgs-gateway";
/// Name prefix of replaced gateway containers that still drain their sessions.
pub const RETIRED_PREFIX: &str = "pgs-gateway-retired-";
/// Name of the controller's container (suspends idle tenants, wakes them for the gateway).
pub const CONTROLLER: &str = "pgs-controller";
/// Repository of the gateway image.
pub const IMAGE_REPO: &str = "pgs-gateway";
/// Where the state dir is mounted inside the container.
pub const STATE_MOUNT: &str = "/state";

/// Why the gateway image could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ImageBuildError {
    /// Reading the binary or its libraries failed.
    #[error("cannot read {path} for the gateway image: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The binary or a library could not be packed into the image.
    #[error(transparent)]
    Pack(super::archive::ArchiveError),
    /// Docker refused the import.
    #[error(transparent)]
    Docker(#[from] DockerError),
}

fn read(path: &Path) -> Result<Vec<u8>, ImageBuildError> {
    std::fs::read(path).map_err(|source| ImageBuildError::Read { path: path.to_path_buf(), source })
}

/// The ELF interpreter (`PT_INTERP`) named by an ELF64 little-endian binary.
fn elf_interpreter(elf: &[u8]) -> Option<String> {
    let u16_at = |o: usize| elf.get(o..o + 2).map(|b| u16::from_le_bytes([b[0], b[1]]) as usize);
    let u64_at = |o: usize| elf.get(o..o + 8).map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])) as usize);
    if elf.get(0..5) != Some(b"\x7fELF\x02") {
        return None;
    }
    let (phoff, phentsize, phnum) = (u64_at(0x20)?, u16_at(0x36)?, u16_at(0x38)?);
    (0..phnum).find_map(|i| {
        let ph = phoff + i * phentsize;
        let kind = elf.get(ph..ph + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))?;
        if kind != 3 {
            return None;
        }
        let (off, size) = (u64_at(ph + 8)?, u64_at(ph + 32)?);
        let raw = elf.get(off..off + size)?;
        Some(String::from_utf8_lossy(raw.split(|&b| b == 0).next()?).into_owned())
    })
}

/// Shared libraries mapped into this process.
fn loaded_libraries() -> BTreeSet<PathBuf> {
    std::fs::read_to_string("/proc/self/maps")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .filter(|p| p.starts_with('/') && p.contains(".so"))
        .map(PathBuf::from)
        .collect()
}

fn short_hash(bytes: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    digest.as_ref()[..6].iter().map(|b| format!("{b:02x}")).collect()
}

/// Everything needed to create the gateway container.
#[derive(Debug, Clone)]
pub struct GatewaySpec {
    /// Installation id (label).
    pub instance: String,
    /// Image tag.
    pub image: String,
    /// Host path of the state dir.
    pub state_dir: PathBuf,
    /// Host port for clients (all interfaces).
    pub gateway_port: u16,
    /// Host port for health checks (127.0.0.1).
    pub health_port: u16,
    /// How long a gateway this one replaces may serve its open sessions.
    pub drain: std::time::Duration,
}

impl Docker {
    /// Makes sure the gateway image for the running binary exists; returns its reference.
    pub async fn ensure_gateway_image(&self) -> Result<String, ImageBuildError> {
        let exe = std::env::current_exe()
            .map_err(|source| ImageBuildError::Read { path: "/proc/self/exe".into(), source })?;
        let binary = read(&exe)?;
        let tag = format!("{}-{}", env!("CARGO_PKG_VERSION"), short_hash(&binary));
        let reference = format!("{IMAGE_REPO}:{tag}");
        if self.api().inspect_image(&reference).await.is_ok() {
            return Ok(reference);
        }
        let spinner = crate::progress::step(&format!("building the gateway image {reference}"));
        let mut tar = super::archive::Archive::new();
        let mut add = |path: &str, data: &[u8], mode: u32| -> Result<(), ImageBuildError> {
            tar.file(path, data, mode).map(drop).map_err(ImageBuildError::Pack)
        };
        add("/usr/local/bin/pgs", &binary, 0o755)?;
        let mut lib_dirs = BTreeSet::new();
        for lib in loaded_libraries() {
            let data = read(&lib)?;
            add(&lib.to_string_lossy(), &data, 0o755)?;
            if let Some(dir) = lib.parent() {
                lib_dirs.insert(dir.to_string_lossy().into_owned());
            }
        }
        if let Some(interp) = elf_interpreter(&binary) {
            let real = std::fs::canonicalize(&interp).unwrap_or_else(|_| PathBuf::from(&interp));
            add(&interp, &read(&real)?, 0o755)?;
        }
        add("/tmp/.keep", b"", 0o644)?;
        let archive = tar.finish().map_err(ImageBuildError::Pack)?;
        let env = format!("ENV LD_LIBRARY_PATH={}", lib_dirs.into_iter().collect::<Vec<_>>().join(":"));
        let changes = vec![
            env.as_str(),
            "ENV PGS_HOME=/state",
            "ENTRYPOINT [\"/usr/local/bin/pgs\"]",
            "CMD [\"gateway\", \"run\"]",
            "LABEL io.pgs.managed=true",
        ];
        let opts = bollard::image::CreateImageOptions {
            from_src: "-".to_string(),
            repo: IMAGE_REPO.to_string(),
            tag: tag.clone(),
            changes,
            ..Default::default()
        };
        use futures_util::TryStreamExt;
        let result: Result<Vec<_>, _> =
            self.api().create_image(Some(opts), Some(archive.into()), None).try_collect().await;
        drop(spinner);
        result.map_err(|e| self.err("import the gateway image", e))?;
        Ok(reference)
    }

    /// Creates (does not start) the gateway container: host network, listening on the gateway
    /// port of every interface and the health port of 127.0.0.1, running as the owner of the
    /// state dir.
    pub async fn create_gateway_container(&self, spec: &GatewaySpec) -> Result<(), DockerError> {
        let control_dir = spec.state_dir.join(crate::state::HANDOVER_DIR);
        let mounts = vec![
            bind(&spec.state_dir, STATE_MOUNT, true),
            // Its control socket (listener handover, cancels between generations).
            bind(&control_dir, &format!("{STATE_MOUNT}/{}", crate::state::HANDOVER_DIR), false),
        ];
        self.create_gateway(spec, HostConfig { mounts: Some(mounts), ..Default::default() }, owner(&spec.state_dir))
            .await
    }

    /// Creates (does not start) the gateway container of another node of a swarm: its state
    /// is the node's own dir `node_dir` on that host (made by the engine if missing), which the
    /// manager fills through this engine's API; it runs as root there, the owner of that dir.
    pub async fn create_node_gateway_container(&self, spec: &GatewaySpec, node_dir: &str) -> Result<(), DockerError> {
        let binds = vec![format!("{node_dir}:{STATE_MOUNT}")];
        self.create_gateway(spec, HostConfig { binds: Some(binds), ..Default::default() }, "0:0".to_string()).await
    }

    /// Creates the gateway container with `storage` (its mounts) running as `user`.
    async fn create_gateway(&self, spec: &GatewaySpec, storage: HostConfig, user: String) -> Result<(), DockerError> {
        let labels = super::managed_labels(&spec.instance, "gateway");
        let host_config = HostConfig {
            network_mode: Some("host".to_string()),
            restart_policy: super::restart_unless_stopped(),
            ..storage
        };
        let cmd = [
            "gateway",
            "run",
            "--listen",
            &format!("0.0.0.0:{}", spec.gateway_port),
            "--health-listen",
            &format!("127.0.0.1:{}", spec.health_port),
            "--backend",
            "auto",
            "--log-format",
            "json",
            "--takeover-drain",
            &format!("{}s", spec.drain.as_secs()),
            // A gateway of an earlier release holds the port through Docker until it is removed.
            "--bind-retry",
            "30s",
            // The controller runs in a container of its own, with the Docker socket this one
            // must not have.
            "--no-controller",
        ]
        .map(String::from)
        .to_vec();
        let config = bollard::container::Config {
            image: Some(spec.image.clone()),
            cmd: Some(cmd),
            env: Some(vec![format!("PGS_HOME={STATE_MOUNT}")]),
            user: Some(user),
            labels: Some(labels),
            stop_signal: Some("SIGTERM".to_string()),
            stop_timeout: Some(35),
            host_config: Some(host_config),
            ..Default::default()
        };
        let opts = bollard::container::CreateContainerOptions { name: CONTAINER.to_string(), platform: None };
        self.api()
            .create_container(Some(opts), config)
            .await
            .map_err(|e| self.err("create the gateway container", e))?;
        Ok(())
    }

    /// Renames a container.
    pub async fn rename_container(&self, name: &str, to: &str) -> Result<(), DockerError> {
        let opts = bollard::container::RenameContainerOptions { name: to.to_string() };
        self.api().rename_container(name, opts).await.map_err(|e| self.err(&format!("rename container {name}"), e))
    }

    /// Sets a container's restart policy (`always`, `unless-stopped`, `no`).
    pub async fn set_restart_policy(&self, name: &str, policy: RestartPolicyNameEnum) -> Result<(), DockerError> {
        let opts = bollard::container::UpdateContainerOptions::<String> {
            restart_policy: Some(RestartPolicy { name: Some(policy), maximum_retry_count: None }),
            ..Default::default()
        };
        self.api().update_container(name, opts).await.map_err(|e| self.err(&format!("update container {name}"), e))
    }

    /// Replaced gateway containers of an installation: (name, running).
    pub async fn retired_gateways(&self, instance: &str) -> Result<Vec<(String, bool)>, DockerError> {
        let opts = bollard::container::ListContainersOptions::<String> {
            all: true,
            filters: HashMap::from([
                ("label".to_string(), vec![format!("{LABEL_INSTANCE}={instance}")]),
                ("name".to_string(), vec![RETIRED_PREFIX.to_string()]),
            ]),
            ..Default::default()
        };
        let list = self.api().list_containers(Some(opts)).await.map_err(|e| self.err("list containers", e))?;
        Ok(list
            .into_iter()
            .filter_map(|c| {
                let name = c.names?.into_iter().next()?.trim_start_matches('/').to_string();
                name.starts_with(RETIRED_PREFIX).then(|| (name, c.state.as_deref() == Some("running")))
            })
            .collect())
    }

    /// Creates (does not start) the controller container: the gateway image running `pgs
    /// controller run`, with the state dir writable, the Docker socket, and no network at all
    /// (it reaches Docker and the tenants through Unix sockets). It runs as the owner of the
    /// state dir, with the group of the Docker socket, so the files it writes stay the
    /// operator's.
    pub async fn create_controller_container(&self, spec: &GatewaySpec) -> Result<(), DockerError> {
        use std::os::unix::fs::MetadataExt;
        let docker_socket = local_socket_path();
        let socket_group = std::fs::metadata(&docker_socket).map(|m| m.gid()).unwrap_or(0);
        let storage = HostConfig {
            mounts: Some(vec![
                bind(&spec.state_dir, STATE_MOUNT, false),
                bind(&docker_socket, "/var/run/docker.sock", false),
            ]),
            group_add: Some(vec![socket_group.to_string()]),
            ..Default::default()
        };
        self.create_controller(spec, storage, owner(&spec.state_dir), None).await
    }

    /// Creates (does not start) the controller container of node `node` of a swarm, on this
    /// engine (the node's): as [`Docker::create_controller_container`], on the node's dir
    /// `node_dir` (the one its gateway mounts) and this engine's socket, as root, the owner of
    /// that dir.
    pub async fn create_node_controller_container(
        &self,
        spec: &GatewaySpec,
        node: &str,
        node_dir: &str,
    ) -> Result<(), DockerError> {
        let binds = vec![format!("{node_dir}:{STATE_MOUNT}"), format!("{}:/var/run/docker.sock", self.socket_path())];
        let storage = HostConfig { binds: Some(binds), ..Default::default() };
        self.create_controller(spec, storage, "0:0".to_string(), Some(node)).await
    }

    /// Creates the controller container with `storage` (its mounts) running as `user`, for
    /// node `node` (none: the manager's).
    async fn create_controller(
        &self,
        spec: &GatewaySpec,
        storage: HostConfig,
        user: String,
        node: Option<&str>,
    ) -> Result<(), DockerError> {
        let labels = super::managed_labels(&spec.instance, "controller");
        let host_config = HostConfig {
            network_mode: Some("none".to_string()),
            restart_policy: super::restart_unless_stopped(),
            ..storage
        };
        let mut cmd = ["controller", "run", "--log-format", "json"].map(String::from).to_vec();
        cmd.extend(node.into_iter().flat_map(|n| ["--node".to_string(), n.to_string()]));
        let config = bollard::container::Config {
            image: Some(spec.image.clone()),
            cmd: Some(cmd),
            env: Some(vec![format!("PGS_HOME={STATE_MOUNT}"), "DOCKER_HOST=unix:///var/run/docker.sock".to_string()]),
            user: Some(user),
            labels: Some(labels),
            stop_signal: Some("SIGTERM".to_string()),
            host_config: Some(host_config),
            ..Default::default()
        };
        let opts = bollard::container::CreateContainerOptions { name: CONTROLLER.to_string(), platform: None };
        self.api()
            .create_container(Some(opts), config)
            .await
            .map_err(|e| self.err("create the controller container", e))?;
        Ok(())
    }

    /// Attaches a container to a network; already attached is fine.
    pub async fn connect_network(&self, network: &str, container: &str) -> Result<(), DockerError> {
        let opts = bollard::network::ConnectNetworkOptions { container: container.to_string(), ..Default::default() };
        match self.api().connect_network(network, opts).await {
            Ok(()) => Ok(()),
            Err(e) => match self.err(&format!("attach {container} to network {network}"), e) {
                DockerError::Api { message, .. } if message.contains("already exists") => Ok(()),
                e => Err(e),
            },
        }
    }

    /// Detaches a container from a network; not attached (or either missing) is fine.
    pub async fn disconnect_network(&self, network: &str, container: &str) -> Result<(), DockerError> {
        let opts = bollard::network::DisconnectNetworkOptions { container: container.to_string(), force: true };
        match self.api().disconnect_network(network, opts).await {
            Ok(()) => Ok(()),
            Err(e) => match self.err(&format!("detach {container} from network {network}"), e) {
                e if e.is_not_found() => Ok(()),
                DockerError::Api { message, .. } if message.contains("is not connected") => Ok(()),
                e => Err(e),
            },
        }
    }

    /// The image a container runs, if it exists.
    pub async fn container_image(&self, name: &str) -> Result<Option<String>, DockerError> {
        Ok(self.inspect_container(name).await?.and_then(|c| c.config).and_then(|c| c.image))
    }

    /// Streams a container's log into `out` (following it with `follow`).
    pub async fn copy_logs(
        &self,
        name: &str,
        follow: bool,
        tail: &str,
        out: &mut impl std::io::Write,
    ) -> Result<(), DockerError> {
        use futures_util::StreamExt;
        let opts = bollard::container::LogsOptions::<String> {
            follow,
            stdout: true,
            stderr: true,
            tail: tail.to_string(),
            ..Default::default()
        };
        let mut stream = self.api().logs(name, Some(opts));
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| self.err("read the gateway's log", e))?;
            let _ = out.write_all(&chunk.into_bytes());
            let _ = out.flush();
        }
        Ok(())
    }
}

/// A bind mount of a host path.
fn bind(source: &Path, target: &str, read_only: bool) -> Mount {
    Mount {
        target: Some(target.to_string()),
        source: Some(source.to_string_lossy().into_owned()),
        typ: Some(MountTypeEnum::BIND),
        read_only: Some(read_only),
        ..Default::default()
    }
}

/// `UID:GID` of the state dir's owner: the managed containers run as the operator, so the files
/// they write stay the operator's.
fn owner(state_dir: &Path) -> String {
    use std::os::unix::fs::MetadataExt;
    let (uid, gid) = std::fs::metadata(state_dir).map(|m| (m.uid(), m.gid())).unwrap_or((0, 0));
    format!("{uid}:{gid}")
}

/// The host path of the Docker socket this process talks to (`DOCKER_HOST` or the default).
fn local_socket_path() -> PathBuf {
    std::env::var("DOCKER_HOST")
        .ok()
        .and_then(|h| h.strip_prefix("unix://").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("/var/run/docker.sock"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_this_binarys_interpreter_and_libraries() {
        let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let interp = elf_interpreter(&exe).expect("dynamically linked test binary has PT_INTERP");
        assert!(interp.contains("ld-linux"), "{interp}");
        assert!(loaded_libraries().iter().any(|l| l.to_string_lossy().contains("libc.so")));
        assert_eq!(elf_interpreter(b"not an elf"), None);
    }
}
