//! One tenant's Docker objects: a data volume and a PostgreSQL container that listens on no
//! network. The gateway reaches it over its Unix socket (a folder of the state dir bind-mounted
//! into the container); the container has no network at all, or Docker's default bridge for
//! outgoing connections only (an S3 backup repository, `pgs create --egress`).

use std::collections::HashMap;

use bollard::models::{HealthConfig, HostConfig, Mount, MountTypeEnum, RestartPolicy, RestartPolicyNameEnum};

use super::{Docker, DockerError, LABEL_INSTANCE, LABEL_MANAGED, LABEL_TENANT};

/// Everything needed to create a tenant's container.
#[derive(Debug, Clone)]
pub struct TenantContainer {
    /// Tenant id.
    pub tenant: String,
    /// Installation id (label).
    pub instance: String,
    /// Container name.
    pub name: String,
    /// Image reference.
    pub image: String,
    /// Docker's default bridge, for outgoing connections; `false`: no network at all.
    pub egress: bool,
    /// Volume name.
    pub volume: String,
    /// Where the volume is mounted.
    pub data_mount: String,
    /// Host directory mounted as the container's socket dir (where PostgreSQL puts its Unix
    /// socket for the gateway).
    pub socket_dir: String,
    /// The socket dir is a path on another node's host, which the engine makes if it is
    /// missing, rather than one pgs made on this host.
    pub socket_dir_on_node: bool,
    /// A host file bind-mounted read-only into the container: (host path, container path).
    pub init_file: Option<(String, String)>,
    /// Memory limit in bytes.
    pub memory: Option<i64>,
    /// CPU limit.
    pub cpus: Option<f64>,
    /// Initial superuser password for the image's entrypoint (replaced by the init script).
    pub bootstrap_password: String,
    /// More named volumes: (volume, mount point).
    pub extra_volumes: Vec<(String, String)>,
    /// More environment variables (`KEY=VALUE`).
    pub extra_env: Vec<String>,
    /// Arguments after `postgres` (`-c setting=value` ...).
    pub postgres_args: Vec<String>,
}

/// A tenant's status as pgs reports it: the container's state from Docker, and for a running
/// container what a probe of its PostgreSQL answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Running and accepting connections.
    Running,
    /// Running, PostgreSQL not accepting connections yet (or recovering).
    Starting,
    /// Running, PostgreSQL does not answer or refuses.
    Unhealthy,
    /// Restarting after a crash.
    Restarting,
    /// Not running.
    Stopped,
    /// Stopped because it was idle; the gateway starts it when a client connects.
    Suspended,
    /// The container does not exist.
    Missing,
    /// The tenant's node is down or its engine cannot be reached (its other tenants' nodes are
    /// not affected).
    #[serde(rename = "node down")]
    NodeDown,
}

/// A tenant container's state, as one listing of all containers gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerState {
    /// The container runs.
    pub running: bool,
    /// Docker is restarting it after a crash.
    pub restarting: bool,
    /// It mounts a socket dir (tenants created before pgs 0.2 do not).
    pub has_socket: bool,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = serde_json::to_value(self).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        f.write_str(&s)
    }
}

/// Labels for an object belonging to `tenant` of installation `instance`.
pub fn labels(instance: &str, tenant: &str) -> HashMap<String, String> {
    HashMap::from([
        (LABEL_MANAGED.to_string(), "true".to_string()),
        (LABEL_INSTANCE.to_string(), instance.to_string()),
        (LABEL_TENANT.to_string(), tenant.to_string()),
    ])
}

impl Docker {
    /// Creates (does not start) a tenant's container with its volume.
    pub async fn create_tenant_container(&self, spec: &TenantContainer) -> Result<(), DockerError> {
        let env: Vec<String> = [
            format!("POSTGRES_PASSWORD={}", spec.bootstrap_password),
            "POSTGRES_USER=postgres".to_string(),
            "POSTGRES_DB=postgres".to_string(),
            "POSTGRES_INITDB_ARGS=--auth-local=scram-sha-256 --auth-host=scram-sha-256".to_string(),
            // What initdb would find in a container anyway; naming it spares initdb a scan of
            // every zoneinfo file (seconds on overlay file systems).
            "TZ=Etc/UTC".to_string(),
        ]
        .into_iter()
        .chain(spec.extra_env.iter().cloned())
        .collect();
        let extra_mounts = spec
            .extra_volumes
            .iter()
            .map(|(volume, target)| Mount {
                target: Some(target.clone()),
                source: Some(volume.clone()),
                typ: Some(MountTypeEnum::VOLUME),
                ..Default::default()
            })
            .chain(spec.init_file.iter().map(|(source, target)| Mount {
                target: Some(target.clone()),
                source: Some(source.clone()),
                typ: Some(MountTypeEnum::BIND),
                read_only: Some(true),
                ..Default::default()
            }));
        let host_config = HostConfig {
            mounts: Some(
                std::iter::once(Mount {
                    target: Some(spec.data_mount.clone()),
                    source: Some(spec.volume.clone()),
                    typ: Some(MountTypeEnum::VOLUME),
                    ..Default::default()
                })
                .chain((!spec.socket_dir_on_node).then(|| Mount {
                    target: Some(crate::state::CONTAINER_SOCKET_DIR.to_string()),
                    source: Some(spec.socket_dir.clone()),
                    typ: Some(MountTypeEnum::BIND),
                    ..Default::default()
                }))
                .chain(extra_mounts)
                .collect(),
            ),
            // On another node the socket dir is made by that engine (a `Binds` source that is
            // missing is made; a `Mounts` one is an error).
            binds: spec
                .socket_dir_on_node
                .then(|| vec![format!("{}:{}", spec.socket_dir, crate::state::CONTAINER_SOCKET_DIR)]),
            restart_policy: Some(RestartPolicy {
                name: Some(RestartPolicyNameEnum::UNLESS_STOPPED),
                maximum_retry_count: None,
            }),
            // No network of its own: a network per tenant made Docker rewrite its iptables rules at
            // every create, slower the more tenants there were. Nothing listens on the bridge
            // either way (PostgreSQL listens on its socket and the container's own loopback).
            network_mode: Some(if spec.egress { "bridge" } else { "none" }.to_string()),
            // An init as PID 1 reaps orphans: PostgreSQL as PID 1 would take any orphan that exits
            // non-zero (pgBackRest's asynchronous archiver, when the repository fails) for a
            // crashed backend and restart the whole server.
            init: Some(true),
            memory: spec.memory,
            nano_cpus: spec.cpus.map(|c| (c * 1e9) as i64),
            ..Default::default()
        };
        let config = bollard::container::Config {
            image: Some(spec.image.clone()),
            env: Some(env),
            cmd: Some(std::iter::once("postgres".to_string()).chain(spec.postgres_args.iter().cloned()).collect()),
            labels: Some(labels(&spec.instance, &spec.tenant)),
            hostname: Some(spec.name.clone()),
            // No Docker healthcheck: one `pg_isready` through `docker exec` every few seconds per
            // tenant is what capped a host at about 120 idle tenants. pgs probes over the
            // tenant's socket when asked (`list`, `info`) and while it waits for a start.
            healthcheck: Some(HealthConfig { test: Some(vec!["NONE".to_string()]), ..Default::default() }),
            // The official image stops on SIGINT (fast shutdown).
            stop_signal: Some("SIGINT".to_string()),
            stop_timeout: Some(30),
            host_config: Some(host_config),
            ..Default::default()
        };
        let opts = bollard::container::CreateContainerOptions { name: spec.name.clone(), platform: None };
        self.api()
            .create_container(Some(opts), config)
            .await
            .map_err(|e| self.err(&format!("create container {}", spec.name), e))?;
        Ok(())
    }

    /// Creates (never starts) a container `name` that only holds `volume` at `mount`: the
    /// archive endpoints read and write a volume's files through a container, and this one runs
    /// nothing while they do.
    pub async fn create_holder(
        &self,
        name: &str,
        image: &str,
        volume: &str,
        mount: &str,
        labels: HashMap<String, String>,
    ) -> Result<(), DockerError> {
        let config = bollard::container::Config {
            image: Some(image.to_string()),
            entrypoint: Some(vec!["true".to_string()]),
            cmd: Some(Vec::new()),
            labels: Some(labels),
            network_disabled: Some(true),
            host_config: Some(HostConfig {
                mounts: Some(vec![Mount {
                    target: Some(mount.to_string()),
                    source: Some(volume.to_string()),
                    typ: Some(MountTypeEnum::VOLUME),
                    ..Default::default()
                }]),
                network_mode: Some("none".to_string()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let opts = bollard::container::CreateContainerOptions { name: name.to_string(), platform: None };
        self.api()
            .create_container(Some(opts), config)
            .await
            .map_err(|e| self.err(&format!("create container {name}"), e))?;
        Ok(())
    }

    /// Copies directory `path` of container `from` on this engine into container `into` on
    /// engine `to`, at the same path, with owners and modes as they are: a `GET archive`
    /// streamed into a `PUT archive`, so nothing is held in memory and the engines need no link
    /// to each other. Returns the archive's size in bytes. A read that fails part-way is an
    /// error (never a silently shorter copy).
    pub async fn copy_dir(&self, from: &str, path: &str, to: &Docker, into: &str) -> Result<u64, DockerError> {
        use futures_util::StreamExt;
        use std::sync::atomic::{AtomicU64, Ordering};
        let parent = match path.trim_end_matches('/').rsplit_once('/') {
            Some(("", _)) | None => "/".to_string(),
            Some((parent, _)) => parent.to_string(),
        };
        let failed = std::sync::Arc::new(std::sync::Mutex::new(None));
        let bytes = std::sync::Arc::new(AtomicU64::new(0));
        let (seen, counted) = (failed.clone(), bytes.clone());
        let opts = bollard::container::DownloadFromContainerOptions { path: path.to_string() };
        // The upload gets the download's bytes until the first error, which is kept to report.
        let download = self.api().download_from_container(from, Some(opts)).scan((), move |_, chunk| {
            std::future::ready(match chunk {
                Ok(chunk) => {
                    counted.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                    Some(chunk)
                }
                Err(e) => {
                    *seen.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                    None
                }
            })
        });
        let opts = bollard::container::UploadToContainerOptions { path: parent, ..Default::default() };
        let upload = to.api().upload_to_container_streaming(into, Some(opts), download).await;
        if let Some(e) = failed.lock().unwrap_or_else(|p| p.into_inner()).take() {
            return Err(self.err(&format!("read {path} of {from}"), e));
        }
        upload.map_err(|e| to.err(&format!("write {path} into {into}"), e))?;
        Ok(bytes.load(Ordering::Relaxed))
    }

    /// The state of every tenant container of installation `instance` (or of one tenant), by
    /// tenant id: one API call, however many tenants there are.
    pub async fn tenant_containers(
        &self,
        instance: &str,
        tenant: Option<&str>,
    ) -> Result<HashMap<String, ContainerState>, DockerError> {
        let mut labels = vec![format!("{LABEL_INSTANCE}={instance}")];
        labels.extend(tenant.map(|t| format!("{LABEL_TENANT}={t}")));
        let opts = bollard::container::ListContainersOptions {
            all: true,
            filters: HashMap::from([("label".to_string(), labels)]),
            ..Default::default()
        };
        let list = self.api().list_containers(Some(opts)).await.map_err(|e| self.err("list containers", e))?;
        Ok(list
            .into_iter()
            .filter_map(|c| {
                let tenant = c.labels.as_ref()?.get(LABEL_TENANT)?.clone();
                // One-off containers (restores, drills) carry the tenant label too: only the
                // tenant's own container, by name, counts.
                let name = format!("/pgs-{tenant}");
                if !c.names.as_ref().is_some_and(|n| n.contains(&name)) {
                    return None;
                }
                let state = c.state.as_deref().unwrap_or("");
                let has_socket = c
                    .mounts
                    .iter()
                    .flatten()
                    .any(|m| m.destination.as_deref() == Some(crate::state::CONTAINER_SOCKET_DIR));
                // A paused container runs as far as pgs is concerned: its probe finds it unhealthy.
                let running = matches!(state, "running" | "paused");
                Some((tenant, ContainerState { running, restarting: state == "restarting", has_socket }))
            })
            .collect())
    }

    /// The status of a container from Docker alone (no probe), `Missing` if it does not exist.
    pub async fn container_status(&self, name: &str) -> Result<Status, DockerError> {
        let Some(c) = self.inspect_container(name).await? else { return Ok(Status::Missing) };
        let Some(state) = c.state else { return Ok(Status::Missing) };
        if state.restarting == Some(true) {
            return Ok(Status::Restarting);
        }
        if state.running != Some(true) {
            return Ok(Status::Stopped);
        }
        Ok(Status::Running)
    }
}
