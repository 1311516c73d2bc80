//! The managed gateway's lifecycle: `pgs gateway start|stop|restart|status|logs`.

use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;

use super::{Platform, Result, fail};
use crate::docker::Docker;
use crate::docker::gateway::{CONTAINER, CONTROLLER, GatewaySpec};
use crate::docker::tenant::Status;
use crate::state::{TenantId, network_name};

/// What `pgs gateway status` reports.
#[derive(Debug, Serialize)]
pub struct GatewayStatus {
    /// Container status.
    pub status: String,
    /// Image the container runs.
    pub image: Option<String>,
    /// Whether `/ready` answers.
    pub ready: bool,
    /// The controller container's status (it suspends idle tenants and wakes them).
    pub controller: String,
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
    /// controller, and waits until the gateway is ready.
    pub async fn gateway_start(&self, docker: &Docker) -> Result<()> {
        let config = self.state.config()?;
        let image = docker.ensure_gateway_image().await?;
        if self.own_gateway_exists(docker, true).await? && docker.container_image(CONTAINER).await?.as_ref() != Some(&image) {
            crate::progress::note("replacing the gateway container with one from this pgs binary");
            docker.stop_container(CONTAINER, 35).await?;
            docker.remove_container(CONTAINER).await?;
        }
        self.ensure_controller(docker, &config, &image).await?;
        self.create_and_start_gateway(docker, &config, &image, true).await
    }

    /// Runs the controller container from `image`, replacing one from another image (an upgrade)
    /// or a stopped one of another installation.
    async fn ensure_controller(&self, docker: &Docker, config: &crate::state::Config, image: &str) -> Result<()> {
        if let Some(c) = docker.inspect_container(CONTROLLER).await? {
            let owner = c.config.as_ref().and_then(|c| c.labels.as_ref()).and_then(|l| l.get(crate::docker::LABEL_INSTANCE));
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
            docker.create_controller_container(&self.container_spec(config, image)?).await?;
        }
        docker.start_container(CONTROLLER).await?;
        Ok(())
    }

    /// What the gateway and controller containers are made from.
    fn container_spec(&self, config: &crate::state::Config, image: &str) -> Result<GatewaySpec> {
        Ok(GatewaySpec {
            instance: config.instance.clone(),
            image: image.to_string(),
            state_dir: std::fs::canonicalize(self.state.root()).context("resolving the state dir")?,
            gateway_port: config.gateway_port,
            health_port: config.health_port,
        })
    }

    async fn create_and_start_gateway(
        &self,
        docker: &Docker,
        config: &crate::state::Config,
        image: &str,
        may_recreate: bool,
    ) -> Result<()> {
        if docker.inspect_container(CONTAINER).await?.is_none() {
            docker.create_gateway_container(&self.container_spec(config, image)?).await?;
        }
        // The gateway reaches tenants over their sockets in the state dir: it joins only the
        // networks of tenants whose container has none (made by pgs 0.1), so a restart with
        // hundreds of tenants makes one Docker call here, not one per tenant.
        let containers = docker.tenant_containers(&config.instance, None).await?;
        for (id, _) in containers.iter().filter(|(_, c)| !c.has_socket) {
            docker.connect_network(&network_name(&TenantId::parse(id)?), CONTAINER).await?;
        }
        if let Err(e) = docker.start_container(CONTAINER).await {
            // A network removed while the gateway was stopped leaves a dangling endpoint that
            // Docker refuses to start with: make the container anew (it holds no state).
            if !may_recreate || !e.to_string().contains("not found") {
                return Err(e.into());
            }
            crate::progress::note("recreating the gateway container (one of its networks is gone)");
            docker.remove_container(CONTAINER).await?;
            return Box::pin(self.create_and_start_gateway(docker, config, image, false)).await;
        }
        self.set_managed_gateway(true)?;
        let spinner = crate::progress::step("waiting for the gateway to be ready");
        let started = Instant::now();
        loop {
            if let Some((200, _)) = http_get(config.health_port, "/ready").await {
                break;
            }
            let status = docker.container_status(CONTAINER).await?;
            if matches!(status, Status::Stopped | Status::Missing | Status::Restarting) || started.elapsed() > Duration::from_secs(30) {
                drop(spinner);
                let logs = docker.logs_tail(CONTAINER, 15).await;
                fail!(Timeout, "the gateway did not become ready (container {status}); last log lines:\n{}", logs.trim_end());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
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
