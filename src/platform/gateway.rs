//! The managed gateway's lifecycle: `pgs gateway start|stop|restart|status|logs`.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::{Platform, Result, fail};
use crate::docker::Docker;
use bollard::models::{ContainerInspectResponse, RestartPolicyNameEnum};

use crate::docker::gateway::{CONTAINER, CONTROLLER, GatewaySpec, RETIRED_PREFIX};
use crate::docker::tenant::Status;

/// What `pgs gateway status` reports.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GatewayStatus {
    /// Container status.
    pub status: String,
    /// Image the container runs.
    pub image: Option<String>,
    /// Whether `/ready` answers.
    pub ready: bool,
    /// The controller container's status (it suspends idle tenants and wakes them).
    pub controller: String,
    /// Replaced gateway containers still serving their open sessions.
    pub draining: Vec<String>,
    /// From the gateway's `/status`: version, uptime, open sessions.
    pub gateway: Option<serde_json::Value>,
    /// Client port on the host.
    pub port: u16,
    /// Health port on 127.0.0.1.
    pub health_port: u16,
}

/// GETs `path` from the gateway's health port on 127.0.0.1: (status code, body).
async fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let fetch = async {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.ok()?;
        s.write_all(format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes()).await.ok()?;
        let mut buf = Vec::new();
        s.take(1 << 20).read_to_end(&mut buf).await.ok()?;
        let text = String::from_utf8_lossy(&buf).into_owned();
        let code = text.split_whitespace().nth(1)?.parse().ok()?;
        Some((code, text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default()))
    };
    tokio::time::timeout(Duration::from_secs(3), fetch).await.ok().flatten()
}

impl Platform {
    /// Whether a `pgs-gateway` container exists and belongs to this installation. Another
    /// installation's running gateway is left alone (an error says so); a stopped one serves
    /// nothing and would only block this installation, so with `take_over_stopped` it is removed.
    async fn own_gateway_exists(&self, docker: &Docker, take_over_stopped: bool) -> Result<bool> {
        let Some(c) = docker.inspect_container(CONTAINER).await? else { return Ok(false) };
        let running = c.state.as_ref().and_then(|s| s.running).unwrap_or(false);
        let owner = c.config.and_then(|c| c.labels).and_then(|l| l.get(crate::docker::LABEL_INSTANCE).cloned());
        let instance = self.state.config()?.instance;
        if owner.as_deref() == Some(instance.as_str()) {
            return Ok(true);
        }
        if take_over_stopped && !running {
            crate::progress::note(&format!("removing the stopped {CONTAINER} container of another pgs installation"));
            docker.remove_container(CONTAINER).await?;
            return Ok(false);
        }
        fail!(
            Conflict,
            "a container named {CONTAINER} exists but belongs to another pgs installation (state dir); \
             stop it with that installation's `pgs gateway stop`, or remove it with `docker rm -f {CONTAINER}`"
        );
    }

    /// Starts the managed gateway (building its image from this binary when needed) and its
    /// controller, and waits until the gateway is ready. A running gateway of another image (an
    /// upgrade), or any running gateway with `replace`, is replaced without refusing a
    /// connection: see [`Platform::replace_gateway`].
    pub async fn gateway_start(&self, docker: &Docker, drain: Duration, replace: bool) -> Result<()> {
        use std::os::unix::fs::DirBuilderExt;
        let config = self.state.config()?;
        let control_dir = self.state.handover_dir();
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&control_dir)
            .map_err(|e| super::Error::io(format!("creating {}", control_dir.display()), e))?;
        let image = docker.ensure_gateway_image().await?;
        self.reap_retired(docker, &config.instance).await?;
        self.ensure_controller(docker, &config, &image).await?;
        let spec = self.container_spec(&config, &image, drain)?;
        if self.own_gateway_exists(docker, true).await? {
            let c = docker.inspect_container(CONTAINER).await?.unwrap_or_default();
            let running = c.state.as_ref().and_then(|s| s.running).unwrap_or(false);
            let host_network = c.host_config.as_ref().and_then(|h| h.network_mode.as_deref()) == Some("host");
            let same_image = c.config.as_ref().and_then(|c| c.image.as_deref()) == Some(image.as_str());
            if running && (replace || !same_image || !host_network) {
                self.replace_gateway(docker, &spec, &c).await?;
                // The other nodes' gateways run this binary too (their relays speak the same).
                self.sync_nodes(docker).await;
                return Ok(());
            }
            if !running && (!same_image || !host_network) {
                docker.remove_container(CONTAINER).await?;
            }
        }
        if docker.inspect_container(CONTAINER).await?.is_none() {
            docker.create_gateway_container(&spec).await?;
        }
        docker.start_container(CONTAINER).await?;
        self.set_managed_gateway(true)?;
        self.wait_ready(docker, &config, None).await?;
        self.sync_nodes(docker).await;
        Ok(())
    }

    /// Replaces the running gateway container `old` by a new one from `spec`:
    ///
    /// 1. `old` is renamed `pgs-gateway-retired-ID` and will not be restarted by Docker;
    /// 2. the new `pgs-gateway` starts, takes the listening sockets over from `old` and accepts;
    /// 3. `old` serves its open sessions for up to `spec.drain`, ends the rest with 57P01 and
    ///    exits; the next `pgs gateway` command or the controller removes it.
    ///
    /// A gateway of an earlier release (bridge network, port published by Docker) cannot hand
    /// its socket over: it is removed once the new one waits for the port, which the new one
    /// binds within milliseconds (sessions through the old one are cut, once).
    async fn replace_gateway(&self, docker: &Docker, spec: &GatewaySpec, old: &ContainerInspectResponse) -> Result<()> {
        let config = self.state.config()?;
        let id = old.id.clone().unwrap_or_default();
        let retired = format!("{RETIRED_PREFIX}{}", id.get(..12).unwrap_or(&id));
        let legacy = old.host_config.as_ref().and_then(|h| h.network_mode.as_deref()) != Some("host");
        let before = match http_get(config.health_port, "/status").await {
            Some((200, body)) => {
                serde_json::from_str::<serde_json::Value>(&body).ok().and_then(|v| v["generation"].as_u64())
            }
            _ => None,
        };
        crate::progress::note(&format!(
            "replacing the running gateway; open sessions on it may finish for {}s",
            spec.drain.as_secs()
        ));
        docker.rename_container(CONTAINER, &retired).await?;
        docker.set_restart_policy(&retired, RestartPolicyNameEnum::NO).await?;
        let started = async {
            docker.create_gateway_container(spec).await?;
            docker.start_container(CONTAINER).await?;
            if legacy {
                // Its port is Docker's: free it for the new gateway, which retries binding.
                docker.remove_container(&retired).await?;
            }
            self.wait_ready(docker, &config, before).await
        };
        if let Err(e) = started.await {
            if !legacy {
                // Put the old gateway back as it was: it never stopped serving.
                let _ = docker.remove_container(CONTAINER).await;
                let _ = docker.rename_container(&retired, CONTAINER).await;
                let _ = docker.set_restart_policy(CONTAINER, RestartPolicyNameEnum::UNLESS_STOPPED).await;
            }
            return Err(e);
        }
        self.set_managed_gateway(true)?;
        Ok(())
    }

    /// Removes replaced gateway containers that have finished draining.
    pub async fn reap_retired(&self, docker: &Docker, instance: &str) -> Result<()> {
        for (name, running) in docker.retired_gateways(instance).await? {
            if !running {
                docker.remove_container(&name).await?;
            }
        }
        Ok(())
    }

    /// Runs the controller container from `image`, replacing one from another image (an upgrade)
    /// or a stopped one of another installation.
    async fn ensure_controller(&self, docker: &Docker, config: &crate::state::Config, image: &str) -> Result<()> {
        if let Some(c) = docker.inspect_container(CONTROLLER).await? {
            let owner =
                c.config.as_ref().and_then(|c| c.labels.as_ref()).and_then(|l| l.get(crate::docker::LABEL_INSTANCE));
            let running = c.state.as_ref().and_then(|s| s.running).unwrap_or(false);
            let ours = owner == Some(&config.instance);
            if !ours && running {
                fail!(
                    Conflict,
                    "a container named {CONTROLLER} runs for another pgs installation; stop it there \
                     (`pgs gateway stop`) or remove it with `docker rm -f {CONTROLLER}`"
                );
            }
            if !ours || c.config.and_then(|c| c.image).as_deref() != Some(image) {
                docker.remove_container(CONTROLLER).await?;
            }
        }
        if docker.inspect_container(CONTROLLER).await?.is_none() {
            docker.create_controller_container(&self.container_spec(config, image, Duration::ZERO)?).await?;
        }
        docker.start_container(CONTROLLER).await?;
        Ok(())
    }

    /// What the gateway and controller containers are made from.
    fn container_spec(&self, config: &crate::state::Config, image: &str, drain: Duration) -> Result<GatewaySpec> {
        Ok(GatewaySpec {
            instance: config.instance.clone(),
            image: image.to_string(),
            state_dir: std::fs::canonicalize(self.state.root())
                .map_err(|e| super::Error::io("resolving the state dir", e))?,
            gateway_port: config.gateway_port,
            health_port: config.health_port,
            drain,
        })
    }

    /// Waits until the gateway on the health port is ready and, when `replacing` names the
    /// generation of the gateway being replaced, until a newer generation answers.
    async fn wait_ready(&self, docker: &Docker, config: &crate::state::Config, replacing: Option<u64>) -> Result<()> {
        let spinner = crate::progress::step("waiting for the gateway to be ready");
        let started = Instant::now();
        loop {
            if let Some((200, body)) = http_get(config.health_port, "/status").await {
                let status: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
                let generation = status["generation"].as_u64();
                if status["ready"] == true && generation.is_some() && generation != replacing {
                    break;
                }
            }
            let status = docker.container_status(CONTAINER).await?;
            if matches!(status, Status::Stopped | Status::Missing | Status::Restarting)
                || started.elapsed() > Duration::from_secs(30)
            {
                drop(spinner);
                let logs = docker.logs_tail(CONTAINER, 15).await;
                fail!(
                    Timeout,
                    "the gateway did not become ready (container {status}); last log lines:\n{}",
                    logs.trim_end()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        drop(spinner);
        Ok(())
    }

    /// Stops the managed gateway (open sessions drain first); another installation's gateway is
    /// never touched. With `forget`, `pgs start` will no longer start it.
    pub async fn gateway_stop(&self, docker: &Docker, forget: bool) -> Result<()> {
        if self.own_gateway_exists(docker, false).await? {
            let spinner = crate::progress::step("stopping the gateway (open sessions drain)");
            let result = docker.stop_container(CONTAINER, 35).await;
            drop(spinner);
            result?;
        }
        // Replaced gateways still draining end their sessions now (57P01).
        let instance = self.state.config()?.instance;
        for (name, running) in docker.retired_gateways(&instance).await? {
            if running {
                docker.stop_container(&name, 10).await?;
            }
            docker.remove_container(&name).await?;
        }
        let controller = docker.inspect_container(CONTROLLER).await?;
        let labels = controller.and_then(|c| c.config).and_then(|c| c.labels).unwrap_or_default();
        if labels.get(crate::docker::LABEL_INSTANCE) == Some(&self.state.config()?.instance) {
            docker.stop_container(CONTROLLER, 10).await?;
        }
        if forget {
            self.set_managed_gateway(false)?;
        }
        Ok(())
    }

    /// Pooled clients of `tenant` that hold a server connection of their own (auto mode), by
    /// reason, as the gateway on this host reports them; `None` when it does not answer.
    pub async fn pool_reserved(&self, tenant: &str) -> Result<Option<std::collections::BTreeMap<String, u64>>> {
        let config = self.state.config()?;
        let Some((200, body)) = http_get(config.health_port, "/status").await else { return Ok(None) };
        let status: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        let reserved = status["pool_reserved"][tenant]
            .as_object()
            .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_u64()?))).collect())
            .unwrap_or_default();
        // A gateway of an earlier release does not report reservations.
        Ok(status.get("pool_reserved").map(|_| reserved))
    }

    /// The managed gateway's state, from Docker and from its own endpoints.
    pub async fn gateway_status(&self, docker: &Docker) -> Result<GatewayStatus> {
        let config = self.state.config()?;
        let status = docker.container_status(CONTAINER).await?;
        let ready = matches!(http_get(config.health_port, "/ready").await, Some((200, _)));
        let gateway = match http_get(config.health_port, "/status").await {
            Some((200, body)) => serde_json::from_str(&body).ok(),
            _ => None,
        };
        Ok(GatewayStatus {
            status: status.to_string(),
            image: docker.container_image(CONTAINER).await?,
            ready,
            controller: docker.container_status(CONTROLLER).await?.to_string(),
            draining: docker
                .retired_gateways(&config.instance)
                .await?
                .into_iter()
                .filter(|(_, r)| *r)
                .map(|(n, _)| n)
                .collect(),
            gateway,
            port: config.gateway_port,
            health_port: config.health_port,
        })
    }

    /// Whether the operator runs the managed gateway.
    pub fn managed_gateway(&self) -> Result<bool> {
        Ok(self.state.config()?.managed_gateway)
    }

    fn set_managed_gateway(&self, on: bool) -> Result<()> {
        let lock = self.state.lock()?;
        let mut config = self.state.config()?;
        if config.managed_gateway != on {
            config.managed_gateway = on;
            self.state.save_config(&lock, &config)?;
        }
        Ok(())
    }
}
