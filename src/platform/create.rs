//! `pgs create`: a tenant's volume, socket dir, credentials and container, ready when it returns
//! (or rolled back).

use std::time::Duration;

use super::{Error, Platform, Result, TenantInfo, fail, now};
use crate::docker::Docker;
use crate::docker::archive::Archive;
use crate::docker::tenant::{Status, TenantContainer};
use crate::state::generate_password;
use crate::state::{
    Config, Desired, MANAGER_NODE, Phase, SCHEMA_VERSION, Secrets, Tenant, TenantId, backup_volume_name,
    container_name, network_name, volume_name,
};

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
    /// Make the tenant a clone: its data restored from another tenant's backups (`pgs clone`).
    pub clone_of: Option<(String, crate::backup::Target)>,
    /// Suspend the tenant after this many idle seconds (scale to zero).
    pub suspend_after: Option<u64>,
    /// Let the container connect out (Docker's default bridge).
    pub egress: bool,
    /// PostgreSQL settings that override the derived ones.
    pub settings: std::collections::BTreeMap<String, String>,
    /// The node to make it on (with a swarm; default: placed by free memory).
    pub node: Option<String>,
    /// High availability from the start (`create --ha`): a synchronous standby on another node.
    pub ha: Option<HaRequest>,
}

/// The standby `create --ha` asks for.
#[derive(Debug, Clone, Default)]
pub struct HaRequest {
    /// The standby's node (default: placed by free memory, never the primary's).
    pub standby_node: Option<String>,
    /// What a commit waits for.
    pub durability: crate::state::Durability,
}

impl Platform {
    /// Creates a tenant and waits until its database accepts connections; with `req.ha`, then
    /// gives it a standby (the store, a repository that outlives a node and a second node are
    /// checked before anything is made).
    pub async fn create(&self, docker: &Docker, mut req: CreateRequest) -> Result<TenantInfo> {
        let Some(ha) = req.ha.take() else { return self.create_one(docker, req).await };
        self.ha_requirements(true)?;
        if req.suspend_after.is_some() {
            fail!(Invalid, "--ha and --suspend-after do not go together: a suspended primary would fail over");
        }
        if ha.standby_node.is_some() && ha.standby_node == req.node {
            fail!(Invalid, "the standby must be on another node than the primary: choose another --standby-node");
        }
        crate::state::settings::add_ha(&mut req.settings);
        let id = req.id.clone();
        let mut info = self.create_one(docker, req).await?;
        let status = self.ha_enable(docker, &id, ha.standby_node.as_deref(), ha.durability).await?;
        info.ha = Some(status.roles());
        Ok(info)
    }

    /// [`Platform::create`] without the standby.
    async fn create_one(&self, docker: &Docker, req: CreateRequest) -> Result<TenantInfo> {
        let mut steps = super::Steps::new();
        let id = TenantId::parse(&req.id)?;
        if id.as_str().ends_with(crate::gateway::route::POOLER_SUFFIX) {
            fail!(
                Invalid,
                "tenant id {id:?} ends with {:?}, which names a tenant's pooled endpoint: choose another",
                crate::gateway::route::POOLER_SUFFIX
            );
        }
        if req.settings.get("listen_addresses").is_some_and(|v| v.trim().is_empty()) {
            fail!(
                Invalid,
                "listen_addresses must not be empty: pgs waits for the server that listens (its socket always works)"
            );
        }
        let config = self.state.config()?;
        if self.state.tenants()?.tenants.contains_key(&id) {
            fail!(Conflict, "tenant {id} already exists");
        }
        // The node it lives on, and that node's engine from here on (the manager's engine
        // builds the gateway image and tells the node's gateway about the new tenant). A clone
        // is made where its source's backups are: on the source's node.
        let requested = match &req.clone_of {
            Some((source, _)) if config.swarm.is_some() => {
                Some(self.tenant(source)?.2.node.unwrap_or_else(|| MANAGER_NODE.to_string()))
            }
            _ => req.node.clone(),
        };
        let node = self.place(docker, requested.as_deref()).await?;
        let manager = docker;
        let engine = match &node {
            Some(name) => self.node_engine(&config, name).await?,
            None => docker.clone(),
        };
        let docker = &engine;
        let source = match &req.clone_of {
            Some((source, _)) => Some(self.backed_up(source)?.2),
            None => None,
        };
        if source.is_some() && req.adopt {
            fail!(Invalid, "a clone gets its data from backups: it cannot --adopt a volume");
        }
        // A clone runs the image its data was written by.
        let image = match &source {
            Some(s) => s.image.clone(),
            None => req.image.clone().unwrap_or_else(|| config.image.clone()),
        };
        let image_info = docker.ensure_image(&image).await?;
        if node.is_some() && config.backups.is_some() {
            self.copy_backup_image(manager, docker, &image).await?;
        }
        // The volume a removed tenant of this id last ran on: `pgs-ID-data`, or a restore's.
        let retired = self.state.tenants()?.retired.get(&id).cloned();
        let volume = if req.adopt || retired.is_some() {
            let labels = crate::docker::tenant::labels(&config.instance, id.as_str());
            let mut names = docker.volumes_labeled(&labels).await?;
            names.push(volume_name(&id));
            let last = super::volumes::last_used(&id, retired.as_deref(), &names).unwrap_or_else(|| volume_name(&id));
            if docker.volume_exists(&last).await? { last } else { volume_name(&id) }
        } else {
            volume_name(&id)
        };
        let volume_exists = docker.volume_exists(&volume).await?;
        if volume_exists && !req.adopt {
            fail!(
                Conflict,
                "data volume {volume} already exists (kept by an earlier `pgs remove` without --purge?): \
                 run `pgs create {id} --adopt` to use its data, or `pgs remove {id} --purge` after adopting to delete it"
            );
        }
        if req.adopt && !volume_exists {
            fail!(Invalid, "--adopt: there is no data volume {volume} to adopt");
        }
        if docker.inspect_container(&container_name(&id)).await?.is_some() {
            fail!(
                Conflict,
                "a container named {} already exists but is not a tenant here; remove it or choose another id",
                container_name(&id)
            );
        }
        steps.mark("checks");
        let adopt = req.adopt;
        let (tenant, secrets) = self.state.update(|cfg, tenants, lock| -> Result<_> {
            if tenants.tenants.contains_key(&id) {
                fail!(Conflict, "tenant {id} already exists");
            }
            let kept = if adopt { self.state.secrets(&id)? } else { None };
            let secrets = match (kept, &req.password) {
                (_, Some(p)) if p.is_empty() => fail!(Invalid, "--password must not be empty"),
                (Some(mut s), Some(p)) => {
                    s.password = p.clone();
                    s
                }
                (Some(s), None) => s,
                (None, p) if adopt && p.is_none() => {
                    fail!(Invalid, "--adopt: no stored password for {id}; pass the tenant's password with --password")
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
                local_port: None,
                subnet: None,
                egress: req.egress,
                pool: None,
                pool_mode: crate::state::PoolMode::NEW,
                data_mount: image_info.data_mount().to_string(),
                access: !req.no_access,
                allow: Vec::new(),
                memory: req.memory,
                cpus: req.cpus,
                desired: Desired::Running,
                phase: Phase::Provisioning,
                created_at: now(),
                backups: cfg.backups.is_some(),
                // An adopted restore's volume keeps its name.
                data_volume: (volume != volume_name(&id)).then(|| volume.clone()),
                previous_data_volume: None,
                restoring: None,
                last_backup: None,
                last_backup_ok_at: None,
                last_drill: None,
                suspend_after: req.suspend_after,
                suspended: false,
                settings: req.settings.clone(),
                node: node.clone(),
                ha: None,
            };
            tenants.tenants.insert(id.clone(), tenant.clone());
            if adopt {
                tenants.retired.remove(&id);
            }
            Ok((tenant, secrets))
        })?;
        steps.mark("state");

        let provisioned = async {
            let tenant = match &req.clone_of {
                Some((source, target)) => {
                    self.fill_from_backup(docker, &config, &id, &tenant, &secrets, source, target).await?;
                    self.provision(docker, &config, &id, tenant, None, &mut steps).await?
                }
                None => {
                    let _step = crate::progress::step(&format!("making {id}'s volume and container"));
                    self.provision(docker, &config, &id, tenant, Some(&secrets), &mut steps).await?
                }
            };
            let waiting = crate::progress::step(&format!("waiting for {id} to accept connections"));
            self.wait_until_ready(docker, &id, &tenant, req.timeout).await?;
            drop(waiting);
            steps.mark("ready");
            self.state.clear_init_file(&id, INIT_SCRIPT)?;
            if tenant.backups {
                self.init_backups(docker, &id).await?;
                steps.mark("backups");
            }
            Ok(())
        }
        .await;
        if let Err(e) = provisioned {
            let _ = docker.remove_container(&container_name(&id)).await;
            if !adopt {
                let _ = docker.remove_volume(&volume).await;
                let _ = docker.remove_volume(&backup_volume_name(&id)).await;
            }
            let _ = self.state.remove_host_dirs(&id);
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
            let t = tenants.tenants.get_mut(&id).ok_or_else(|| Error::NoTenant(id.clone()))?;
            t.phase = Phase::Ready;
            Ok(t.clone())
        })?;
        steps.mark("state");
        if config.swarm.is_some() {
            self.sync_nodes(manager).await;
            steps.mark("nodes");
        }
        steps.log(&format!("create {id}"));
        let info = self.info_of(&config, &id, &tenant, Status::Running.to_string());
        self.with_secret(&config, &id, info)
    }

    /// Creates the volume (unless it exists) and container of a tenant and starts it. `secrets`
    /// is `Some` for a new data dir, whose roles the init script then creates. A tenant made by an
    /// earlier release, with a network of its own, loses that network here (and keeps its
    /// outgoing connections through Docker's default bridge); the returned record says so.
    pub(super) async fn provision(
        &self,
        docker: &Docker,
        config: &Config,
        id: &TenantId,
        mut tenant: Tenant,
        secrets: Option<&Secrets>,
        steps: &mut super::Steps,
    ) -> Result<Tenant> {
        let labels = crate::docker::tenant::labels(&config.instance, id.as_str());
        if tenant.subnet.is_some() {
            self.drop_own_network(docker, id).await?;
            tenant = self.state.update(|_, tenants, _| -> Result<Tenant> {
                let t = tenants.tenants.get_mut(id).ok_or_else(|| Error::NoTenant(id.clone()))?;
                (t.subnet, t.local_port, t.egress) = (None, None, true);
                Ok(Tenant { subnet: None, local_port: None, egress: true, ..tenant })
            })?;
        }
        let volume = tenant.data_volume(id);
        if !docker.volume_exists(&volume).await? {
            docker.create_volume(&volume, &labels).await?;
        }
        steps.mark("volume");
        let backup =
            if tenant.backups { Some(self.backup_settings(docker, id, &tenant, &labels).await?) } else { None };
        let name = container_name(id);
        let init = secrets.filter(|s| !s.superuser_password.is_empty()).map(|s| init_script(id, s));
        // On another node: a socket dir in the node's dir, made there by its engine, and the
        // init script uploaded (pgs cannot write files on that host).
        let on_node = match &tenant.node {
            Some(node) => Some(super::nodes::node_record(config, node)?.data_dir),
            None => None,
        };
        let (socket_dir, init_file, init_upload) = match &on_node {
            Some(dir) => (format!("{dir}/sockets/{id}"), None, init),
            None => {
                let socket_dir = self.state.create_socket_dir(id)?.to_string_lossy().into_owned();
                // Here the script is mounted rather than uploaded: an upload into a container
                // that has not run mounts its file system once more (a tenth of a `create` on
                // fuse-overlayfs).
                let init_file = match init {
                    Some(script) => Some(self.state.write_init_file(id, INIT_SCRIPT, &script)?),
                    None => None,
                };
                (socket_dir, init_file, None)
            }
        };
        let spec = TenantContainer {
            tenant: id.to_string(),
            instance: config.instance.clone(),
            name: name.clone(),
            image: backup.as_ref().map_or_else(|| tenant.image.clone(), |b| b.image.clone()),
            // Out to the repository, or as the operator asked.
            egress: tenant.egress || backup.as_ref().is_some_and(|b| b.egress),
            volume,
            data_mount: tenant.data_mount.clone(),
            socket_dir,
            socket_dir_on_node: on_node.is_some(),
            init_file: init_file.map(|f| (f.to_string_lossy().into_owned(), format!("{INIT_DIR}/{INIT_SCRIPT}"))),
            memory: tenant.memory,
            cpus: tenant.cpus,
            bootstrap_password: generate_password(),
            extra_volumes: backup.as_ref().map(|b| b.volumes.clone()).unwrap_or_default(),
            extra_env: backup.as_ref().map(|b| b.env.clone()).unwrap_or_default(),
            // Derived and operator settings, then backups' archiving (which must stay as set).
            postgres_args: crate::state::settings::postgres_args(tenant.memory, &tenant.settings)
                .into_iter()
                .chain(backup.as_ref().map(|b| b.postgres_args.clone()).unwrap_or_default())
                .collect(),
        };
        let mut uploads = backup.map(|b| b.uploads).unwrap_or_default();
        if let Some(script) = init_upload {
            uploads.push((INIT_DIR.to_string(), Archive::single(INIT_SCRIPT, script.as_bytes(), 0o644)?));
        }
        docker.create_tenant_container(&spec).await?;
        steps.mark("container");
        if !uploads.is_empty() {
            for (dir, tar) in uploads {
                docker.upload(&name, &dir, tar).await?;
            }
            steps.mark("upload");
        }
        docker.start_container(&name).await?;
        steps.mark("start");
        Ok(tenant)
    }

    /// Removes the network of its own that a tenant made by an earlier release has (with the
    /// managed gateway of such a release detached from it first); gone already is fine.
    pub(super) async fn drop_own_network(&self, docker: &Docker, id: &TenantId) -> Result<()> {
        docker.disconnect_network(&network_name(id), crate::docker::gateway::CONTAINER).await?;
        docker.remove_network(&network_name(id)).await?;
        Ok(())
    }
}

/// Quotes an SQL identifier.
fn ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Where images run init scripts of a new data dir (the official image's convention).
const INIT_DIR: &str = "/docker-entrypoint-initdb.d";

/// File name of pgs's init script there.
const INIT_SCRIPT: &str = "10-pgs-tenant.sql";

/// The init script (for [`INIT_DIR`]): creates the tenant's
/// role (not a superuser) and database, then sets the superuser's real password. Passwords go
/// in as SCRAM verifiers, so no clear-text secret enters the container.
fn init_script(id: &TenantId, secrets: &Secrets) -> String {
    format!(
        "CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB PASSWORD '{tenant}';\n\
         CREATE DATABASE {role} OWNER {role};\n\
         REVOKE ALL ON DATABASE {role} FROM PUBLIC;\n\
         ALTER ROLE postgres PASSWORD '{superuser}';\n",
        role = ident(id.as_str()),
        tenant = verifier(&secrets.password),
        superuser = verifier(&secrets.superuser_password),
    )
}

/// A SCRAM-SHA-256 verifier for `password`: what PostgreSQL stores, never the password itself.
fn verifier(password: &str) -> String {
    postgres_protocol::password::scram_sha_256(password.as_bytes())
}

/// The SQL that makes a restored copy of `source` into tenant `id`, as a tar archive holding
/// `file_name`: the role and database renamed, new passwords (as verifiers) for the tenant's role
/// and the superuser, so that the source's credentials do not open the clone.
pub(super) fn clone_archive(source: &TenantId, id: &TenantId, secrets: &Secrets, file_name: &str) -> Result<Vec<u8>> {
    let sql = format!(
        "ALTER DATABASE {old} RENAME TO {new};\n\
         ALTER ROLE {old} RENAME TO {new};\n\
         ALTER ROLE {new} PASSWORD '{tenant}';\n\
         ALTER ROLE postgres PASSWORD '{superuser}';\n",
        old = ident(source.as_str()),
        new = ident(id.as_str()),
        tenant = verifier(&secrets.password),
        superuser = verifier(&secrets.superuser_password),
    );
    Ok(Archive::single(file_name, sql.as_bytes(), 0o644)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_script_holds_no_clear_text_password() {
        let id = TenantId::parse("t1").unwrap();
        let s =
            Secrets { schema_version: 1, password: "clear-text-1".into(), superuser_password: "clear-text-2".into() };
        let text = init_script(&id, &s);
        assert!(text.contains("CREATE ROLE \"t1\" LOGIN NOSUPERUSER"));
        assert!(text.contains("SCRAM-SHA-256$4096:"));
        assert!(!text.contains("clear-text"));
        let clone = clone_archive(&TenantId::parse("src").unwrap(), &id, &s, "c.sql").unwrap();
        let text = String::from_utf8_lossy(&clone);
        assert!(text.contains("ALTER ROLE \"src\" RENAME TO \"t1\""));
        assert!(text.contains("SCRAM-SHA-256$4096:") && !text.contains("clear-text"));
    }
}
