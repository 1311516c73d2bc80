//! The lifecycle verbs (`setup`, `create`, `list`, `start`, `stop`, `remove`, access), composing
//! the state dir and Docker. Knows nothing about packet formats.

pub mod alloc;
pub mod gateway;
pub mod ready;

use std::collections::HashSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow, bail};
use rand::Rng;
use serde::Serialize;

use crate::certs::{self, CertFiles};
use crate::docker::tenant::{Status, TenantContainer};
use crate::docker::{Docker, DockerError};
use crate::state::{
    CertificateSource, Config, DEFAULT_DOMAIN, DEFAULT_GATEWAY_PORT, DEFAULT_IMAGE, DEFAULT_NETWORK_POOL, Desired,
    Phase, SCHEMA_VERSION, Secrets, StateDir, StateLock, Tenant, TenantId, container_address, container_name,
    network_name, volume_name,
};

/// Seconds PostgreSQL gets for a clean shutdown before it is killed.
const STOP_GRACE_SECS: i64 = 30;

/// A random password of 32 letters and digits (about 190 bits).
pub fn generate_password() -> String {
    rand::rng().sample_iter(&rand::distr::Alphanumeric).take(32).map(char::from).collect()
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// What `pgs setup` was asked to set.
#[derive(Debug, Default, Clone)]
pub struct SetupRequest {
    /// Public domain.
    pub domain: Option<String>,
    /// Default tenant image.
    pub image: Option<String>,
    /// Gateway port.
    pub gateway_port: Option<u16>,
    /// Use a local CA.
    pub self_signed: bool,
    /// Port of the managed gateway's health endpoints.
    pub health_port: Option<u16>,
}

/// What `pgs create` was asked to make.
#[derive(Debug, Clone)]
pub struct CreateRequest {
    /// Tenant id, not yet validated.
    pub id: String,
    /// Password for the tenant role (generated when `None`).
    pub password: Option<String>,
    /// Image (the config's default when `None`).
    pub image: Option<String>,
    /// Memory limit in bytes.
    pub memory: Option<i64>,
    /// CPU limit.
    pub cpus: Option<f64>,
    /// Create the tenant with access disabled.
    pub no_access: bool,
    /// Reuse an existing data volume.
    pub adopt: bool,
    /// How long to wait for the database.
    pub timeout: Duration,
}

/// A tenant as shown by `create`, `list` and `info`.
#[derive(Debug, Clone, Serialize)]
pub struct TenantInfo {
    /// Tenant id.
    pub id: String,
    /// Public hostname.
    pub host: String,
    /// Gateway port.
    pub port: u16,
    /// Role to log in as.
    pub user: String,
    /// Database name.
    pub database: String,
    /// Whether the gateway admits clients.
    pub access: bool,
    /// Client networks allowed (empty: everyone).
    pub allow: Vec<String>,
    /// Container status (or `creating`).
    pub status: String,
    /// Image.
    pub image: String,
    /// Port on 127.0.0.1 where the container listens (operator access on the host).
    pub local_port: u16,
    /// Container name.
    pub container: String,
    /// Data volume name.
    pub volume: String,
    /// Tenant password, only when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Connection URL through the gateway, only with the password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// The platform: a state dir plus the operations on it.
pub struct Platform {
    state: StateDir,
}

/// Percent-encodes a URL component (RFC 3986 unreserved characters stay as they are).
fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Platform {
    /// The platform kept in `state`.
    pub fn new(state: StateDir) -> Self {
        Self { state }
    }

    /// The state dir.
    pub fn state(&self) -> &StateDir {
        &self.state
    }

    /// Creates or updates the configuration. Idempotent: tenants and secrets are kept, and only
    /// the settings given change.
    pub fn setup(&self, req: &SetupRequest) -> Result<Config> {
        self.state.create()?;
        let lock = self.state.lock()?;
        let existing = self.state.config_opt()?;
        let mut config = existing.clone().unwrap_or_else(|| Config {
            schema_version: SCHEMA_VERSION,
            instance: generate_password()[..12].to_lowercase(),
            domain: DEFAULT_DOMAIN.to_string(),
            image: DEFAULT_IMAGE.to_string(),
            gateway_port: DEFAULT_GATEWAY_PORT,
            certificate: CertificateSource::None,
            hostaddr: None,
            network_pool: DEFAULT_NETWORK_POOL.to_string(),
            health_port: crate::state::DEFAULT_HEALTH_PORT,
            managed_gateway: false,
        });
        if let Some(domain) = &req.domain {
            let domain = domain.trim_end_matches('.').to_ascii_lowercase();
            validate_domain(&domain)?;
            config.domain = domain;
        }
        if let Some(image) = &req.image {
            config.image = image.clone();
        }
        if let Some(port) = req.gateway_port {
            config.gateway_port = port;
        }
        if let Some(port) = req.health_port {
            config.health_port = port;
        }
        if req.self_signed || config.certificate == CertificateSource::None {
            config.certificate = CertificateSource::SelfSigned;
        }
        // Local development domains have no DNS records: connection strings carry the address.
        let local = [".localhost", ".test", ".local", ".internal"].iter().any(|s| config.domain.ends_with(s))
            || config.domain == "localhost";
        config.hostaddr = local.then(|| "127.0.0.1".to_string());
        self.state.save_config(&lock, &config)?;
        let domain_changed = existing.is_none_or(|old| old.domain != config.domain);
        let files = CertFiles::new(self.state.root());
        if config.certificate == CertificateSource::SelfSigned && (domain_changed || !files.cert().exists()) {
            certs::local_ca::issue(&files, &config.domain).context("issuing the self-signed certificate")?;
        }
        Ok(config)
    }

    /// Records where the installed certificate came from (re-reading the config under the lock,
    /// so a concurrent change to it is kept).
    fn record_certificate(&self, lock: &StateLock, source: CertificateSource) -> Result<()> {
        let mut config = self.state.config()?;
        config.certificate = source;
        Ok(self.state.save_config(lock, &config)?)
    }

    /// Installs the operator's certificate and key and records the choice.
    pub fn import_certificate(&self, cert: &std::path::Path, key: &std::path::Path) -> Result<CertFiles> {
        let lock = self.state.lock()?;
        let files = CertFiles::new(self.state.root());
        certs::store::import(&files, cert, key)?;
        self.record_certificate(&lock, CertificateSource::Imported)?;
        Ok(files)
    }

    /// Issues a fresh wildcard certificate from the local CA and records the choice.
    pub fn self_signed(&self, config: &Config) -> Result<CertFiles> {
        let lock = self.state.lock()?;
        let files = CertFiles::new(self.state.root());
        certs::local_ca::issue(&files, &config.domain)?;
        self.record_certificate(&lock, CertificateSource::SelfSigned)?;
        Ok(files)
    }

    /// Obtains a certificate from an ACME CA through DNS-01, installs it and records the choice
    /// (so that `renew` can repeat it). Exclusive with any other issue or renewal.
    pub async fn issue_certificate(
        &self,
        config: &Config,
        settings: &certs::acme::Settings,
        eab: Option<&certs::acme::Eab>,
    ) -> Result<CertFiles> {
        let files = CertFiles::new(self.state.root());
        files.create_dir()?;
        let _renewing = certs::acme::lock(&files)?;
        certs::acme::issue(&files, &config.domain, settings, eab).await?;
        let lock = self.state.lock()?;
        self.record_certificate(&lock, CertificateSource::Acme)?;
        Ok(files)
    }

    /// Renews the ACME certificate when due (or `force`); concurrent runs issue once.
    pub async fn renew_certificate(&self, force: bool) -> Result<certs::acme::Renewal> {
        let config = self.state.config()?;
        if config.certificate != CertificateSource::Acme {
            bail!(
                "the installed certificate is not from an ACME CA (it is {:?}): `pgs certs issue` obtains one",
                config.certificate
            );
        }
        let files = CertFiles::new(self.state.root());
        let _renewing = certs::acme::lock(&files)?;
        certs::acme::renew(&files, &config.domain, force).await
    }

    /// The connection URL of a tenant through the gateway.
    pub fn url(&self, config: &Config, id: &TenantId, password: &str) -> String {
        let mut params = Vec::new();
        let ca = CertFiles::new(self.state.root()).ca();
        match config.certificate {
            CertificateSource::SelfSigned if ca.exists() => {
                params.push("sslmode=verify-full".to_string());
                params.push(format!("sslrootcert={}", url_encode(&ca.to_string_lossy())));
            }
            // A certificate from a public CA: libpq 16+ verifies it against the system's roots.
            CertificateSource::Acme | CertificateSource::Imported => {
                params.push("sslmode=verify-full".to_string());
                params.push("sslrootcert=system".to_string());
            }
            _ => params.push("sslmode=require".to_string()),
        }
        if let Some(addr) = &config.hostaddr {
            params.push(format!("hostaddr={addr}"));
        }
        format!(
            "postgresql://{id}:{}@{id}.{}:{}/{id}?{}",
            url_encode(password),
            config.domain,
            config.gateway_port,
            params.join("&")
        )
    }

    fn info_of(&self, config: &Config, id: &TenantId, t: &Tenant, status: String) -> TenantInfo {
        TenantInfo {
            id: id.to_string(),
            host: format!("{id}.{}", config.domain),
            port: config.gateway_port,
            user: id.to_string(),
            database: id.to_string(),
            access: t.access,
            allow: t.allow.clone(),
            status,
            image: t.image.clone(),
            local_port: t.local_port,
            container: container_name(id),
            volume: volume_name(id),
            password: None,
            url: None,
        }
    }

    fn with_secret(&self, config: &Config, id: &TenantId, mut info: TenantInfo) -> Result<TenantInfo> {
        let secrets = self
            .state
            .secrets(id)?
            .ok_or_else(|| anyhow!("no stored password for {id} in {}", self.state.secrets_path(id).display()))?;
        info.url = Some(self.url(config, id, &secrets.password));
        info.password = Some(secrets.password);
        Ok(info)
    }

    fn tenant(&self, id: &str) -> Result<(Config, TenantId, Tenant)> {
        let id = TenantId::parse(id)?;
        let config = self.state.config()?;
        let tenant = self
            .state
            .tenants()?
            .tenants
            .remove(&id)
            .ok_or_else(|| anyhow!("no tenant {id}: `pgs list` shows the tenants"))?;
        Ok((config, id, tenant))
    }

    /// Creates a tenant and waits until its database accepts connections.
    pub async fn create(&self, docker: &Docker, req: CreateRequest) -> Result<TenantInfo> {
        let id = TenantId::parse(&req.id)?;
        let config = self.state.config()?;
        if self.state.tenants()?.tenants.contains_key(&id) {
            bail!("tenant {id} already exists");
        }
        let image = req.image.clone().unwrap_or_else(|| config.image.clone());
        let image_info = docker.ensure_image(&image).await?;
        let volume = volume_name(&id);
        let volume_exists = docker.volume_exists(&volume).await?;
        if volume_exists && !req.adopt {
            bail!(
                "data volume {volume} already exists (kept by an earlier `pgs remove` without --purge?): \
                 run `pgs create {id} --adopt` to use its data, or `pgs remove {id} --purge` after adopting to delete it"
            );
        }
        if req.adopt && !volume_exists {
            bail!("--adopt: there is no data volume {volume} to adopt");
        }
        if docker.inspect_container(&container_name(&id)).await?.is_some() {
            bail!(
                "a container named {} already exists but is not a tenant here; remove it or choose another id",
                container_name(&id)
            );
        }
        let used = docker.used_subnets().await?;
        let adopt = req.adopt;
        let (tenant, secrets) = self.state.update(|cfg, tenants, lock| -> Result<_> {
            if tenants.tenants.contains_key(&id) {
                bail!("tenant {id} already exists");
            }
            let ports: HashSet<u16> = tenants.tenants.values().map(|t| t.local_port).collect();
            let port = alloc::pick_port(&ports).context("cannot find a free port on 127.0.0.1")?;
            let ours = tenants.tenants.values().map(|t| t.subnet.as_str());
            let subnet = alloc::pick_subnet(&cfg.network_pool, used.iter().map(String::as_str).chain(ours))
                .ok_or_else(|| anyhow!("no free subnet left in the network pool {}", cfg.network_pool))?;
            let kept = if adopt { self.state.secrets(&id)? } else { None };
            let secrets = match (kept, &req.password) {
                (_, Some(p)) if p.is_empty() => bail!("--password must not be empty"),
                (Some(mut s), Some(p)) => {
                    s.password = p.clone();
                    s
                }
                (Some(s), None) => s,
                (None, p) if adopt && p.is_none() => {
                    bail!("--adopt: no stored password for {id}; pass the tenant's password with --password")
                }
                (None, p) => Secrets {
                    schema_version: SCHEMA_VERSION,
                    password: p.clone().unwrap_or_else(generate_password),
                    superuser_password: if adopt { String::new() } else { generate_password() },
                },
            };
            self.state.save_secrets(lock, &id, &secrets)?;
            let tenant = Tenant {
                image: image.clone(),
                local_port: port,
                subnet,
                data_mount: image_info.data_mount().to_string(),
                access: !req.no_access,
                allow: Vec::new(),
                memory: req.memory,
                cpus: req.cpus,
                desired: Desired::Running,
                phase: Phase::Provisioning,
                created_at: now(),
            };
            tenants.tenants.insert(id.clone(), tenant.clone());
            Ok((tenant, secrets))
        })?;

        let provisioned = async {
            let tenant = self.provision(docker, &config, &id, tenant, Some(&secrets)).await?;
            self.attach_gateway(docker, &id).await?;
            let probe = ready::Probe {
                container: &container_name(&id),
                port: tenant.local_port,
                user: id.as_str(),
                password: &secrets.password,
            };
            ready::wait_ready(docker, &probe, req.timeout).await
        }
        .await;
        if let Err(e) = provisioned {
            let _ = docker.remove_container(&container_name(&id)).await;
            let _ = docker.disconnect_network(&network_name(&id), crate::docker::gateway::CONTAINER).await;
            let _ = docker.remove_network(&network_name(&id)).await;
            if !adopt {
                let _ = docker.remove_volume(&volume).await;
            }
            let _ = self.state.remove_socket_dir(&id);
            let _ = self.state.update(|_, tenants, lock| -> Result<()> {
                tenants.tenants.remove(&id);
                if !adopt {
                    self.state.remove_secrets(lock, &id)?;
                }
                Ok(())
            });
            return Err(e);
        }
        let tenant = self.state.update(|_, tenants, _| -> Result<Tenant> {
            let t = tenants.tenants.get_mut(&id).ok_or_else(|| anyhow!("tenant {id} vanished during create"))?;
            t.phase = Phase::Ready;
            Ok(t.clone())
        })?;
        let info = self.info_of(&config, &id, &tenant, Status::Running.to_string());
        self.with_secret(&config, &id, info)
    }

    /// Creates the network, volume (unless it exists) and container of a tenant and starts it.
    /// `secrets` is `Some` for a new data dir, whose roles the init script then creates. If
    /// the subnet turns out to be taken by a network created meanwhile, another is chosen.
    async fn provision(
        &self,
        docker: &Docker,
        config: &Config,
        id: &TenantId,
        mut tenant: Tenant,
        secrets: Option<&Secrets>,
    ) -> Result<Tenant> {
        let labels = crate::docker::tenant::labels(&config.instance, id.as_str());
        let network = network_name(id);
        let mut attempts = 0;
        loop {
            match docker.create_network(&network, &tenant.subnet, &labels).await {
                Ok(()) => break,
                Err(e) if e.is_conflict() => {
                    docker.remove_network(&network).await?;
                }
                Err(DockerError::Api { message, .. }) if message.contains("overlap") && attempts < 8 => {
                    let used = docker.used_subnets().await?;
                    tenant.subnet = self.state.update(|cfg, tenants, _| -> Result<String> {
                        let ours = tenants.tenants.values().map(|t| t.subnet.as_str());
                        let subnet = alloc::pick_subnet(&cfg.network_pool, used.iter().map(String::as_str).chain(ours))
                            .ok_or_else(|| anyhow!("no free subnet left in the network pool {}", cfg.network_pool))?;
                        if let Some(t) = tenants.tenants.get_mut(id) {
                            t.subnet = subnet.clone();
                        }
                        Ok(subnet)
                    })?;
                }
                Err(e) => return Err(e.into()),
            }
            attempts += 1;
            if attempts > 10 {
                bail!("cannot create network {network}");
            }
        }
        let volume = volume_name(id);
        if !docker.volume_exists(&volume).await? {
            docker.create_volume(&volume, &labels).await?;
        }
        let name = container_name(id);
        let address = container_address(&tenant.subnet).ok_or_else(|| anyhow!("bad subnet {}", tenant.subnet))?;
        let socket_dir = self.state.create_socket_dir(id)?;
        let spec = TenantContainer {
            tenant: id.to_string(),
            instance: config.instance.clone(),
            name: name.clone(),
            image: tenant.image.clone(),
            network,
            address: address.to_string(),
            volume,
            data_mount: tenant.data_mount.clone(),
            socket_dir: socket_dir.to_string_lossy().into_owned(),
            local_port: tenant.local_port,
            memory: tenant.memory,
            cpus: tenant.cpus,
            bootstrap_password: generate_password(),
        };
        docker.create_tenant_container(&spec).await?;
        if let Some(secrets) = secrets.filter(|s| !s.superuser_password.is_empty()) {
            docker.upload(&name, "/docker-entrypoint-initdb.d", init_archive(id, secrets)?).await?;
        }
        docker.start_container(&name).await?;
        Ok(tenant)
    }

    /// Every tenant with the real status of its container.
    pub async fn list(&self, docker: &Docker) -> Result<Vec<TenantInfo>> {
        let config = self.state.config()?;
        let tenants = self.state.tenants()?;
        let statuses = futures_util::future::join_all(tenants.tenants.iter().map(|(id, t)| async move {
            match t.phase {
                Phase::Provisioning => Ok("creating".to_string()),
                Phase::Ready => docker.container_status(&container_name(id)).await.map(|s| s.to_string()),
            }
        }))
        .await;
        tenants
            .tenants
            .iter()
            .zip(statuses)
            .map(|((id, t), status)| Ok(self.info_of(&config, id, t, status?)))
            .collect()
    }

    /// One tenant, with its password and URL when `show_password`.
    pub async fn info(&self, docker: &Docker, id: &str, show_password: bool) -> Result<TenantInfo> {
        let (config, id, tenant) = self.tenant(id)?;
        let status = match tenant.phase {
            Phase::Provisioning => "creating".to_string(),
            Phase::Ready => docker.container_status(&container_name(&id)).await?.to_string(),
        };
        let info = self.info_of(&config, &id, &tenant, status);
        if show_password { self.with_secret(&config, &id, info) } else { Ok(info) }
    }

    fn ids(&self, id: Option<&str>) -> Result<Vec<TenantId>> {
        match id {
            Some(id) => Ok(vec![self.tenant(id)?.1]),
            None => Ok(self
                .state
                .tenants()?
                .tenants
                .into_iter()
                .filter(|(_, t)| t.phase == Phase::Ready)
                .map(|(id, _)| id)
                .collect()),
        }
    }

    /// Starts one tenant or all, recreating a container that was removed behind pgs's back
    /// (its data volume is reused), and waits until each accepts connections.
    pub async fn start(&self, docker: &Docker, id: Option<&str>, timeout: Duration) -> Result<Vec<TenantId>> {
        let ids = self.ids(id)?;
        let config = self.state.config()?;
        for id in &ids {
            let tenant = self.state.update(|_, tenants, _| -> Result<Tenant> {
                let t = tenants.tenants.get_mut(id).ok_or_else(|| anyhow!("no tenant {id}"))?;
                t.desired = Desired::Running;
                Ok(t.clone())
            })?;
            let name = container_name(id);
            if docker.inspect_container(&name).await?.is_none() {
                crate::progress::note(&format!("container {name} is missing: recreating it on its data volume"));
                self.provision(docker, &config, id, tenant.clone(), None).await?;
                self.attach_gateway(docker, id).await?;
            } else {
                docker.start_container(&name).await?;
            }
            let secrets = self.state.secrets(id)?.ok_or_else(|| anyhow!("no stored password for {id}"))?;
            let probe = ready::Probe {
                container: &name,
                port: tenant.local_port,
                user: id.as_str(),
                password: &secrets.password,
            };
            ready::wait_ready(docker, &probe, timeout).await?;
        }
        Ok(ids)
    }

    /// Stops one tenant or all (clean PostgreSQL shutdown).
    pub async fn stop(&self, docker: &Docker, id: Option<&str>) -> Result<Vec<TenantId>> {
        let ids = self.ids(id)?;
        for id in &ids {
            self.state.update(|_, tenants, _| -> Result<()> {
                if let Some(t) = tenants.tenants.get_mut(id) {
                    t.desired = Desired::Stopped;
                }
                Ok(())
            })?;
            let spinner = crate::progress::step(&format!("stopping {id}"));
            let result = docker.stop_container(&container_name(id), STOP_GRACE_SECS).await;
            drop(spinner);
            match result {
                Err(e) if e.is_not_found() => {}
                other => other?,
            }
        }
        Ok(ids)
    }

    /// Removes a tenant's container and network; with `purge` also its data volume and secrets.
    pub async fn remove(&self, docker: &Docker, id: &str, purge: bool) -> Result<()> {
        let (_, id, _) = self.tenant(id)?;
        let name = container_name(&id);
        let spinner = crate::progress::step(&format!("removing {id}"));
        let result = async {
            match docker.stop_container(&name, STOP_GRACE_SECS).await {
                Err(e) if !e.is_not_found() => return Err(e),
                _ => {}
            }
            docker.remove_container(&name).await?;
            docker.disconnect_network(&network_name(&id), crate::docker::gateway::CONTAINER).await?;
            docker.remove_network(&network_name(&id)).await?;
            if purge {
                docker.remove_volume(&volume_name(&id)).await?;
            }
            Ok(())
        }
        .await;
        drop(spinner);
        result?;
        self.state.remove_socket_dir(&id)?;
        self.state.update(|_, tenants, lock| -> Result<()> {
            tenants.tenants.remove(&id);
            if purge {
                self.state.remove_secrets(lock, &id)?;
            }
            Ok(())
        })
    }

    /// Adds networks to (`add`) or removes them from a tenant's allowlist; returns the new list.
    pub fn set_allow(&self, id: &str, networks: &[String], add: bool) -> Result<Vec<String>> {
        let (_, id, _) = self.tenant(id)?;
        let networks = networks.iter().map(|n| parse_network(n)).collect::<Result<Vec<_>>>()?;
        self.state.update(|_, tenants, _| -> Result<Vec<String>> {
            let t = tenants.tenants.get_mut(&id).ok_or_else(|| anyhow!("no tenant {id}"))?;
            for n in networks {
                if add && !t.allow.contains(&n) {
                    t.allow.push(n);
                } else if !add {
                    t.allow.retain(|a| *a != n);
                }
            }
            Ok(t.allow.clone())
        })
    }

    /// Turns the gateway's admission of a tenant's clients on or off.
    pub fn set_access(&self, id: &str, access: bool) -> Result<()> {
        let (_, id, _) = self.tenant(id)?;
        self.state.update(|_, tenants, _| -> Result<()> {
            tenants.tenants.get_mut(&id).ok_or_else(|| anyhow!("no tenant {id}"))?.access = access;
            Ok(())
        })
    }
}

/// Normalises a CIDR or a single address (as /32 or /128); the error names the bad entry.
fn parse_network(s: &str) -> Result<String> {
    let net = s
        .parse::<ipnet::IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| anyhow!("invalid network {s:?}: expected a CIDR such as 203.0.113.0/24 or an address"))?;
    Ok(net.trunc().to_string())
}

fn validate_domain(domain: &str) -> Result<()> {
    let ok = !domain.is_empty()
        && domain.len() <= 253
        && domain.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        });
    if !ok {
        bail!("invalid domain {domain:?}: expected a DNS name such as pgs.example.com");
    }
    Ok(())
}

/// Quotes an SQL identifier.
fn ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// The init script, as a tar archive for `/docker-entrypoint-initdb.d`: creates the tenant's
/// role (not a superuser) and database, then sets the superuser's real password. Passwords go
/// in as SCRAM verifiers, so no clear-text secret enters the container.
fn init_archive(id: &TenantId, secrets: &Secrets) -> Result<Vec<u8>> {
    let verifier = |p: &str| postgres_protocol::password::scram_sha_256(p.as_bytes());
    let sql = format!(
        "CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB PASSWORD '{tenant}';\n\
         CREATE DATABASE {role} OWNER {role};\n\
         REVOKE ALL ON DATABASE {role} FROM PUBLIC;\n\
         ALTER ROLE postgres PASSWORD '{superuser}';\n",
        role = ident(id.as_str()),
        tenant = verifier(&secrets.password),
        superuser = verifier(&secrets.superuser_password),
    );
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(sql.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(now());
    header.set_cksum();
    builder.append_data(&mut header, "10-pgs-tenant.sql", sql.as_bytes())?;
    Ok(builder.into_inner()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_encoding() {
        assert_eq!(url_encode("a b/c@d"), "a%20b%2Fc%40d");
        assert_eq!(url_encode("Abc-1.2_~"), "Abc-1.2_~");
    }

    #[test]
    fn networks() {
        assert_eq!(parse_network("10.1.2.3/8").unwrap(), "10.0.0.0/8");
        assert_eq!(parse_network("192.0.2.7").unwrap(), "192.0.2.7/32");
        assert_eq!(parse_network("::1").unwrap(), "::1/128");
        assert!(parse_network("nonsense").is_err());
    }

    #[test]
    fn domains() {
        assert!(validate_domain("pgs.example.com").is_ok());
        assert!(validate_domain("pgs.localhost").is_ok());
        assert!(validate_domain("-bad.com").is_err());
        assert!(validate_domain("a..b").is_err());
        assert!(validate_domain("UPPER.com").is_err());
    }

    #[test]
    fn init_script_holds_no_clear_text_password() {
        let id = TenantId::parse("t1").unwrap();
        let s =
            Secrets { schema_version: 1, password: "clear-text-1".into(), superuser_password: "clear-text-2".into() };
        let tar = init_archive(&id, &s).unwrap();
        let text = String::from_utf8_lossy(&tar);
        assert!(text.contains("CREATE ROLE \"t1\" LOGIN NOSUPERUSER"));
        assert!(text.contains("SCRAM-SHA-256$4096:"));
        assert!(!text.contains("clear-text"));
    }
}
