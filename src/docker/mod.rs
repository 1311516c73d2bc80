//! Docker provisioning through the Engine API (bollard): images, volumes, networks and
//! containers. Knows nothing about routing or TLS.

pub mod archive;
pub mod gateway;
pub mod ha;
pub mod image;
pub mod run;
pub mod swarm;
pub mod tenant;

use std::collections::HashMap;

use bollard::errors::Error as BollardError;
use futures_util::TryStreamExt;

/// Label every object pgs creates carries.
pub const LABEL_MANAGED: &str = "io.pgs.managed";
/// Label naming the installation (the config's `instance`).
pub const LABEL_INSTANCE: &str = "io.pgs.instance";
/// Label naming the tenant an object belongs to.
pub const LABEL_TENANT: &str = "io.pgs.tenant";

/// What went wrong talking to Docker, worded for the operator.
#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    /// The engine cannot be reached at all.
    #[error("cannot reach Docker at {endpoint}: is the daemon running? (set DOCKER_HOST to use another engine)")]
    Unreachable {
        /// Socket path or URL tried.
        endpoint: String,
    },
    /// The engine refused or failed a request.
    #[error("Docker refused to {action}: {message}")]
    Api {
        /// What pgs was doing.
        action: String,
        /// HTTP status from the engine.
        status: u16,
        /// The engine's message.
        message: String,
    },
}

impl DockerError {
    /// True when the engine answered 404 (no such container/volume/network/image).
    pub fn is_not_found(&self) -> bool {
        matches!(self, DockerError::Api { status: 404, .. })
    }
    /// True when the engine answered 409 (conflict, e.g. name in use).
    pub fn is_conflict(&self) -> bool {
        matches!(self, DockerError::Api { status: 409, .. })
    }
}

/// The labels of a container pgs manages for installation `instance` in `role` (`gateway`,
/// `controller`, `agent`, `etcd`).
pub(crate) fn managed_labels(instance: &str, role: &str) -> HashMap<String, String> {
    HashMap::from([
        (LABEL_MANAGED.to_string(), "true".to_string()),
        (LABEL_INSTANCE.to_string(), instance.to_string()),
        ("io.pgs.role".to_string(), role.to_string()),
    ])
}

/// Docker restarts the container unless pgs or the operator stopped it.
pub(crate) fn restart_unless_stopped() -> Option<bollard::models::RestartPolicy> {
    Some(bollard::models::RestartPolicy {
        name: Some(bollard::models::RestartPolicyNameEnum::UNLESS_STOPPED),
        maximum_retry_count: None,
    })
}

/// A connection to the Docker engine.
#[derive(Clone)]
pub struct Docker {
    api: bollard::Docker,
    endpoint: String,
    address: Address,
}

/// Where an engine's API is, for requests bollard does not make ([`swarm`]).
#[derive(Debug, Clone)]
enum Address {
    /// A Unix socket.
    Unix(std::path::PathBuf),
    /// `HOST:PORT` over plain HTTP.
    Tcp(String),
}

impl Address {
    /// Parses `unix:///path`, `tcp://host:port` or `http://host:port`.
    fn parse(endpoint: &str) -> Option<Self> {
        if let Some(path) = endpoint.strip_prefix("unix://") {
            return Some(Address::Unix(path.into()));
        }
        let rest = endpoint.strip_prefix("tcp://").or_else(|| endpoint.strip_prefix("http://"))?;
        let hostport = rest.trim_end_matches('/');
        (!hostport.is_empty()).then(|| Address::Tcp(hostport.to_string()))
    }
}

fn endpoint_from_env() -> String {
    std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".to_string())
}

fn display_endpoint(endpoint: &str) -> String {
    endpoint.strip_prefix("unix://").unwrap_or(endpoint).to_string()
}

impl Docker {
    /// Connects to the engine named by `DOCKER_HOST` (default the local socket), negotiates the
    /// API version and checks that it answers.
    pub async fn connect() -> Result<Self, DockerError> {
        Self::connect_to(&endpoint_from_env()).await
    }

    /// Connects to the engine at `endpoint` (`unix:///path`, or `tcp://HOST:PORT` without TLS,
    /// for an engine reached over a private link), negotiates the API version and checks that
    /// it answers.
    pub async fn connect_to(endpoint: &str) -> Result<Self, DockerError> {
        let shown = display_endpoint(endpoint);
        let unreachable = || DockerError::Unreachable { endpoint: shown.clone() };
        let address = Address::parse(endpoint).ok_or_else(unreachable)?;
        let api = match &address {
            Address::Unix(path) => {
                bollard::Docker::connect_with_unix(&path.to_string_lossy(), 120, bollard::API_DEFAULT_VERSION)
            }
            Address::Tcp(hostport) => {
                bollard::Docker::connect_with_http(&format!("tcp://{hostport}"), 120, bollard::API_DEFAULT_VERSION)
            }
        }
        .map_err(|_| unreachable())?;
        let api = tokio::time::timeout(std::time::Duration::from_secs(10), api.negotiate_version())
            .await
            .map_err(|_| unreachable())?
            .map_err(|_| unreachable())?;
        let docker = Self { api, endpoint: shown, address };
        docker.api.ping().await.map_err(|e| docker.err("answer a ping", e))?;
        Ok(docker)
    }

    /// The bollard client, for modules of this folder.
    pub(crate) fn api(&self) -> &bollard::Docker {
        &self.api
    }

    /// Converts a bollard error into a [`DockerError`] that says what pgs was doing.
    pub(crate) fn err(&self, action: &str, e: BollardError) -> DockerError {
        match e {
            BollardError::DockerResponseServerError { status_code, message } => {
                DockerError::Api { action: action.to_string(), status: status_code, message }
            }
            BollardError::DockerStreamError { error } => {
                DockerError::Api { action: action.to_string(), status: 500, message: error }
            }
            BollardError::SocketNotFoundError(_)
            | BollardError::IOError { .. }
            | BollardError::HyperResponseError { .. }
            | BollardError::RequestTimeoutError => DockerError::Unreachable { endpoint: self.endpoint.clone() },
            other => DockerError::Api { action: action.to_string(), status: 0, message: other.to_string() },
        }
    }

    /// Maps a bollard result, turning "not found" into `missing`: removing what is gone, or
    /// asking whether something exists, is not an error.
    fn or_missing<T>(&self, action: &str, r: Result<T, BollardError>, missing: T) -> Result<T, DockerError> {
        match r {
            Ok(v) => Ok(v),
            Err(e) => match self.err(action, e) {
                e if e.is_not_found() => Ok(missing),
                e => Err(e),
            },
        }
    }

    /// Creates a named volume with labels; an existing volume is an error (409-like).
    pub async fn create_volume(&self, name: &str, labels: &HashMap<String, String>) -> Result<(), DockerError> {
        let opts = bollard::volume::CreateVolumeOptions {
            name: name.to_string(),
            labels: labels.clone(),
            ..Default::default()
        };
        self.api.create_volume(opts).await.map_err(|e| self.err("create volume", e))?;
        Ok(())
    }

    /// Whether a volume exists.
    pub async fn volume_exists(&self, name: &str) -> Result<bool, DockerError> {
        let r = self.api.inspect_volume(name).await.map(|_| true);
        self.or_missing("inspect volume", r, false)
    }

    /// The names of the volumes carrying every one of `labels`.
    pub async fn volumes_labeled(&self, labels: &HashMap<String, String>) -> Result<Vec<String>, DockerError> {
        let filters = HashMap::from([("label".to_string(), labels.iter().map(|(k, v)| format!("{k}={v}")).collect())]);
        let opts = bollard::volume::ListVolumesOptions { filters };
        let list = self.api.list_volumes(Some(opts)).await.map_err(|e| self.err("list volumes", e))?;
        Ok(list.volumes.unwrap_or_default().into_iter().map(|v| v.name).collect())
    }

    /// Removes a volume; a missing one is fine.
    pub async fn remove_volume(&self, name: &str) -> Result<(), DockerError> {
        let r = self.api.remove_volume(name, None).await;
        self.or_missing(&format!("remove volume {name}"), r, ())
    }

    /// Removes a network; a missing one is fine.
    pub async fn remove_network(&self, name: &str) -> Result<(), DockerError> {
        let r = self.api.remove_network(name).await;
        self.or_missing(&format!("remove network {name}"), r, ())
    }

    /// Starts a container (already running is fine).
    pub async fn start_container(&self, name: &str) -> Result<(), DockerError> {
        match self.api.start_container::<String>(name, None).await {
            Err(BollardError::DockerResponseServerError { status_code: 304, .. }) | Ok(()) => Ok(()),
            Err(e) => Err(self.err(&format!("start container {name}"), e)),
        }
    }

    /// Stops a container, giving PostgreSQL `grace_secs` to shut down cleanly (stopped or
    /// missing is fine).
    pub async fn stop_container(&self, name: &str, grace_secs: i64) -> Result<(), DockerError> {
        let opts = bollard::container::StopContainerOptions { t: grace_secs };
        match self.api.stop_container(name, Some(opts)).await {
            Err(BollardError::DockerResponseServerError { status_code: 304, .. }) | Ok(()) => Ok(()),
            r => self.or_missing(&format!("stop container {name}"), r, ()),
        }
    }

    /// Removes a container (forcefully: stop it first for a clean shutdown); missing is fine.
    pub async fn remove_container(&self, name: &str) -> Result<(), DockerError> {
        // `v`: with the anonymous volumes an image's VOLUME made (one-off containers leave them).
        let opts = bollard::container::RemoveContainerOptions { force: true, v: true, ..Default::default() };
        let r = self.api.remove_container(name, Some(opts)).await;
        self.or_missing(&format!("remove container {name}"), r, ())
    }

    /// Inspects a container; `None` if it does not exist.
    pub async fn inspect_container(
        &self,
        name: &str,
    ) -> Result<Option<bollard::models::ContainerInspectResponse>, DockerError> {
        let r = self.api.inspect_container(name, None).await.map(Some);
        self.or_missing("inspect container", r, None)
    }

    /// The last `lines` lines of a container's log (stdout and stderr).
    pub async fn logs_tail(&self, name: &str, lines: usize) -> String {
        let opts = bollard::container::LogsOptions::<String> {
            stdout: true,
            stderr: true,
            tail: lines.to_string(),
            ..Default::default()
        };
        let chunks: Vec<_> = self.api.logs(name, Some(opts)).try_collect().await.unwrap_or_default();
        chunks.iter().map(|c| c.to_string()).collect::<String>()
    }

    /// The content of the small file at `path` in container `name` (at most `limit` bytes
    /// read); `None` when the container or the file does not exist.
    pub async fn read_file(&self, name: &str, path: &str, limit: usize) -> Result<Option<Vec<u8>>, DockerError> {
        use std::io::Read;
        let opts = bollard::container::DownloadFromContainerOptions { path: path.to_string() };
        let mut tar = Vec::new();
        let mut chunks = self.api.download_from_container(name, Some(opts));
        loop {
            match chunks.try_next().await {
                Ok(Some(chunk)) if tar.len() + chunk.len() <= limit + 4096 => tar.extend_from_slice(&chunk),
                Ok(Some(_)) => {
                    return Err(DockerError::Api {
                        action: format!("read {path} of {name}"),
                        status: 0,
                        message: "the file is larger than expected".into(),
                    });
                }
                Ok(None) => break,
                Err(e) => return self.or_missing(&format!("read {path} of {name}"), Err(e), None),
            }
        }
        let mut archive = tar::Archive::new(tar.as_slice());
        let read = archive.entries().and_then(|mut entries| match entries.next() {
            Some(entry) => {
                let mut content = Vec::new();
                entry?.take(limit as u64).read_to_end(&mut content)?;
                Ok(Some(content))
            }
            None => Ok(None),
        });
        read.map_err(|e| DockerError::Api {
            action: format!("read {path} of {name}"),
            status: 0,
            message: e.to_string(),
        })
    }

    /// Copies a tar archive into a (created, not necessarily started) container at `path`.
    pub async fn upload(&self, name: &str, path: &str, tar: Vec<u8>) -> Result<(), DockerError> {
        let opts = bollard::container::UploadToContainerOptions { path: path.to_string(), ..Default::default() };
        self.api
            .upload_to_container(name, Some(opts), tar.into())
            .await
            .map_err(|e| self.err("copy files into the container", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_engine_addresses() {
        assert!(
            matches!(Address::parse("unix:///run/a/docker.sock"), Some(Address::Unix(p)) if p.to_str() == Some("/run/a/docker.sock"))
        );
        assert!(matches!(Address::parse("tcp://10.0.0.2:2375"), Some(Address::Tcp(h)) if h == "10.0.0.2:2375"));
        assert!(matches!(Address::parse("http://node2:2375/"), Some(Address::Tcp(h)) if h == "node2:2375"));
        assert!(Address::parse("ssh://node2").is_none());
        assert!(Address::parse("tcp://").is_none());
    }
}
