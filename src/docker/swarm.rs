//! Docker Swarm: the membership pgs's nodes share (see `docs/scale-out.md`). pgs runs no Swarm
//! services; it uses the swarm for node identity, addresses, liveness and join tokens, and
//! moves images between engines itself (there is no registry).
//!
//! The swarm and node endpoints are not in the bollard release pgs builds on, so they are
//! plain HTTP/1.1 requests over the engine's socket ([`Docker::raw`]).

use std::collections::HashMap;

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use http_body_util::{BodyExt, Full};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Docker, DockerError};

/// Label on a Swarm node naming it as a pgs node.
pub const LABEL_NODE: &str = "io.pgs.node";

/// The largest answer of a swarm or node request that is read (a node list of a few hundred
/// nodes is well below).
const MAX_ANSWER: usize = 16 << 20;

/// A node as the swarm manager sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwarmNode {
    /// The Swarm node id.
    pub id: String,
    /// `ready`, `down`, `unknown` or `disconnected`.
    pub state: String,
    /// `active`, `pause` or `drain`.
    pub availability: String,
    /// The address the node talks to the swarm from.
    pub addr: String,
    /// The engine's memory in bytes.
    pub memory: i64,
    /// The node's labels.
    pub labels: HashMap<String, String>,
    /// Whether it is a manager.
    pub manager: bool,
}

/// What an engine says of its own swarm membership (`GET /info`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalSwarm {
    /// `inactive`, `pending`, `active`, `error` or `locked`.
    pub state: String,
    /// Its Swarm node id (empty when inactive).
    pub node_id: String,
    /// Whether it manages the swarm.
    pub manager: bool,
    /// The engine's memory in bytes.
    pub memory: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct NodeJson {
    #[serde(rename = "ID")]
    id: String,
    version: Option<VersionJson>,
    spec: Option<Value>,
    status: Option<StatusJson>,
    description: Option<DescriptionJson>,
    manager_status: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct VersionJson {
    index: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StatusJson {
    state: Option<String>,
    addr: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescriptionJson {
    resources: Option<ResourcesJson>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ResourcesJson {
    memory_bytes: Option<i64>,
}

impl NodeJson {
    fn into_node(self) -> SwarmNode {
        let spec = self.spec.unwrap_or(Value::Null);
        let labels = spec["Labels"]
            .as_object()
            .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect())
            .unwrap_or_default();
        let status = self.status.unwrap_or(StatusJson { state: None, addr: None });
        SwarmNode {
            id: self.id,
            state: status.state.unwrap_or_else(|| "unknown".to_string()),
            availability: spec["Availability"].as_str().unwrap_or("active").to_string(),
            addr: status.addr.unwrap_or_default(),
            memory: self.description.and_then(|d| d.resources).and_then(|r| r.memory_bytes).unwrap_or(0),
            labels,
            manager: self.manager_status.is_some_and(|m| !m.is_null()),
        }
    }
}

impl Docker {
    /// One request to the engine's API at `path` (no version prefix: the engine's own), with a
    /// JSON body or none; returns the answer's body, or the engine's message as an error.
    pub(crate) async fn raw(
        &self,
        method: hyper::Method,
        path: &str,
        body: Option<&Value>,
        action: &str,
    ) -> Result<Bytes, DockerError> {
        let unreachable = || DockerError::Unreachable { endpoint: self.endpoint.clone() };
        let body = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
        let req = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, "docker")
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(body))
            .map_err(|e| DockerError::Api { action: action.to_string(), status: 0, message: e.to_string() })?;
        let exchange = async {
            let mut sender = match &self.address {
                super::Address::Unix(path) => {
                    let stream = tokio::net::UnixStream::connect(path).await.map_err(|_| unreachable())?;
                    handshake(hyper_util::rt::TokioIo::new(stream)).await
                }
                super::Address::Tcp(addr) => {
                    let stream = tokio::net::TcpStream::connect(addr.as_str()).await.map_err(|_| unreachable())?;
                    handshake(hyper_util::rt::TokioIo::new(stream)).await
                }
            }
            .map_err(|_| unreachable())?;
            let answer = sender.send_request(req).await.map_err(|_| unreachable())?;
            let status = answer.status().as_u16();
            let bytes = http_body_util::Limited::new(answer.into_body(), MAX_ANSWER)
                .collect()
                .await
                .map_err(|_| unreachable())?
                .to_bytes();
            Ok::<_, DockerError>((status, bytes))
        };
        let (status, bytes) =
            tokio::time::timeout(std::time::Duration::from_secs(60), exchange).await.map_err(|_| unreachable())??;
        if !(200..300).contains(&status) {
            let message = serde_json::from_slice::<Value>(&bytes)
                .ok()
                .and_then(|v| v["message"].as_str().map(str::to_owned))
                .unwrap_or_else(|| String::from_utf8_lossy(&bytes).trim().to_string());
            return Err(DockerError::Api { action: action.to_string(), status, message });
        }
        Ok(bytes)
    }

    /// This engine's own swarm membership and memory.
    pub async fn local_swarm(&self) -> Result<LocalSwarm, DockerError> {
        let info = self.api().info().await.map_err(|e| self.err("describe itself", e))?;
        let swarm = info.swarm.unwrap_or_default();
        let state = swarm.local_node_state.map(|s| s.to_string()).unwrap_or_else(|| "inactive".to_string());
        Ok(LocalSwarm {
            state: if state.is_empty() { "inactive".to_string() } else { state },
            node_id: swarm.node_id.unwrap_or_default(),
            manager: swarm.control_available.unwrap_or(false),
            memory: info.mem_total.unwrap_or(0),
        })
    }

    /// Makes this engine a swarm manager advertising `advertise_addr`; overlays the swarm makes
    /// take their subnets from `pool`. Returns the node id.
    pub async fn swarm_init(&self, advertise_addr: &str, pool: &str) -> Result<String, DockerError> {
        let body = json!({
            "ListenAddr": "0.0.0.0:2377",
            "AdvertiseAddr": advertise_addr,
            "DefaultAddrPool": [pool],
            "SubnetSize": 24,
        });
        let id = self.raw(hyper::Method::POST, "/swarm/init", Some(&body), "initialise a swarm").await?;
        Ok(serde_json::from_slice::<String>(&id).unwrap_or_default())
    }

    /// The token with which a worker joins this manager's swarm.
    pub async fn worker_join_token(&self) -> Result<String, DockerError> {
        let swarm = self.raw(hyper::Method::GET, "/swarm", None, "describe the swarm").await?;
        let swarm: Value = serde_json::from_slice(&swarm).unwrap_or(Value::Null);
        swarm["JoinTokens"]["Worker"].as_str().map(str::to_owned).ok_or_else(|| DockerError::Api {
            action: "describe the swarm".to_string(),
            status: 0,
            message: "no worker join token (is this engine a swarm manager?)".to_string(),
        })
    }

    /// Makes this engine join the swarm of the manager at `manager` (`ADDR:2377`) as a worker,
    /// advertising `advertise_addr`.
    pub async fn swarm_join(&self, manager: &str, token: &str, advertise_addr: &str) -> Result<(), DockerError> {
        let body = json!({
            "ListenAddr": "0.0.0.0:2377",
            "AdvertiseAddr": advertise_addr,
            "RemoteAddrs": [manager],
            "JoinToken": token,
        });
        self.raw(hyper::Method::POST, "/swarm/join", Some(&body), "join the swarm").await?;
        Ok(())
    }

    /// Makes this engine leave its swarm (`force`: a manager too).
    pub async fn swarm_leave(&self, force: bool) -> Result<(), DockerError> {
        let path = format!("/swarm/leave?force={force}");
        match self.raw(hyper::Method::POST, &path, None, "leave the swarm").await {
            // 503: not part of a swarm, which is what was wanted.
            Err(DockerError::Api { status: 503, .. }) => Ok(()),
            other => other.map(|_| ()),
        }
    }

    /// Every node of the swarm, in one request (the engine must be a manager).
    pub async fn swarm_nodes(&self) -> Result<Vec<SwarmNode>, DockerError> {
        let nodes = self.raw(hyper::Method::GET, "/nodes", None, "list the swarm's nodes").await?;
        let nodes: Vec<NodeJson> = serde_json::from_slice(&nodes).map_err(|e| DockerError::Api {
            action: "list the swarm's nodes".to_string(),
            status: 0,
            message: e.to_string(),
        })?;
        Ok(nodes.into_iter().map(NodeJson::into_node).collect())
    }

    /// Sets label `key` to `value` on swarm node `id` (other labels kept).
    pub async fn label_swarm_node(&self, id: &str, key: &str, value: &str) -> Result<(), DockerError> {
        let action = format!("label swarm node {id}");
        let node = self.raw(hyper::Method::GET, &format!("/nodes/{id}"), None, &action).await?;
        let node: NodeJson = serde_json::from_slice(&node).map_err(|e| DockerError::Api {
            action: action.clone(),
            status: 0,
            message: e.to_string(),
        })?;
        let version = node.version.map(|v| v.index).unwrap_or(0);
        let mut spec = node.spec.unwrap_or_else(|| json!({}));
        if !spec["Labels"].is_object() {
            spec["Labels"] = json!({});
        }
        spec["Labels"][key] = Value::String(value.to_string());
        let path = format!("/nodes/{id}/update?version={version}");
        self.raw(hyper::Method::POST, &path, Some(&spec), &action).await?;
        Ok(())
    }

    /// Removes swarm node `id` from the swarm (`force`: even if it still answers).
    pub async fn remove_swarm_node(&self, id: &str, force: bool) -> Result<(), DockerError> {
        let path = format!("/nodes/{id}?force={force}");
        match self.raw(hyper::Method::DELETE, &path, None, &format!("remove swarm node {id}")).await {
            Err(e) if e.is_not_found() => Ok(()),
            other => other.map(|_| ()),
        }
    }

    /// The subnets of this engine's networks.
    pub async fn network_subnets(&self) -> Result<Vec<ipnet::IpNet>, DockerError> {
        let opts = bollard::network::ListNetworksOptions::<String>::default();
        let networks = self.api().list_networks(Some(opts)).await.map_err(|e| self.err("list networks", e))?;
        Ok(networks
            .into_iter()
            .flat_map(|n| n.ipam.and_then(|i| i.config).unwrap_or_default())
            .filter_map(|c| c.subnet?.parse().ok())
            .collect())
    }

    /// Whether image `reference` is on this engine.
    pub async fn has_image(&self, reference: &str) -> Result<bool, DockerError> {
        let r = self.api().inspect_image(reference).await.map(|_| true);
        self.or_missing(&format!("inspect image {reference}"), r, false)
    }

    /// Copies image `reference` from this engine to `to` (`docker save | docker load`, streamed:
    /// there is no registry to pull from).
    pub async fn copy_image(&self, reference: &str, to: &Docker) -> Result<(), DockerError> {
        let failed = std::sync::Arc::new(std::sync::Mutex::new(None));
        let seen = failed.clone();
        // The load gets the export's bytes until the first error, which is kept to report.
        let export = self.api().export_image(reference).scan((), move |_, chunk| {
            std::future::ready(match chunk {
                Ok(bytes) => Some(bytes),
                Err(e) => {
                    *seen.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                    None
                }
            })
        });
        let opts = bollard::image::ImportImageOptions { quiet: true };
        let load = to.api().import_image_stream(opts, export, None).try_collect::<Vec<_>>().await;
        if let Some(e) = failed.lock().unwrap_or_else(|p| p.into_inner()).take() {
            return Err(self.err(&format!("export image {reference}"), e));
        }
        load.map_err(|e| to.err(&format!("load image {reference}"), e))?;
        Ok(())
    }
}

async fn handshake<T>(io: T) -> hyper::Result<hyper::client::conn::http1::SendRequest<Full<Bytes>>>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (sender, conn) = hyper::client::conn::http1::handshake(io).await?;
    tokio::spawn(conn);
    Ok(sender)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_node_as_the_engine_lists_it() {
        let json = r#"[{"ID":"abc","Version":{"Index":12},"Spec":{"Labels":{"io.pgs.node":"n2"},"Role":"worker","Availability":"active"},
            "Description":{"Hostname":"vm","Resources":{"NanoCPUs":2000000000,"MemoryBytes":25000000000}},
            "Status":{"State":"down","Addr":"10.250.0.3"}}]"#;
        let nodes: Vec<NodeJson> = serde_json::from_str(json).unwrap();
        let node = nodes.into_iter().next().unwrap().into_node();
        assert_eq!(node.id, "abc");
        assert_eq!(
            (node.state.as_str(), node.availability.as_str(), node.addr.as_str()),
            ("down", "active", "10.250.0.3")
        );
        assert_eq!(node.memory, 25_000_000_000);
        assert_eq!(node.labels[LABEL_NODE], "n2");
        assert!(!node.manager);
    }
}
