//! Which tenant a connection is for, and whether it may come in.
//!
//! Keys, in order: (1) the SNI hostname `TENANT.DOMAIN`; (2) `tenant=TENANT` in the `options`
//! startup parameter (removed before forwarding); (3) a user name `USER.TENANT` (rewritten to
//! `USER`); (4) a user name equal to a tenant id. Keys that name different tenants are refused.
//! Wherever a key names a tenant, `TENANT-pooler` names the same tenant's pooled endpoint.

use std::collections::HashMap;
use std::net::IpAddr;

use ipnet::IpNet;

use super::errors::Refusal;
use super::frame::Startup;
use crate::state::{Route, Routes};

/// Which key chose the tenant (for logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteKey {
    /// TLS SNI hostname.
    Sni,
    /// `tenant=` in `options`.
    Options,
    /// `USER.TENANT` user name.
    UserSuffix,
    /// User name equal to the tenant id.
    User,
}

impl RouteKey {
    /// Label for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            RouteKey::Sni => "sni",
            RouteKey::Options => "options",
            RouteKey::UserSuffix => "user_suffix",
            RouteKey::User => "user",
        }
    }
}

/// What a routing key names after a tenant id: the tenant's pooled endpoint.
pub const POOLER_SUFFIX: &str = "-pooler";

/// What a routing key names after a tenant id: the tenant's read-only endpoint (an HA tenant's
/// streaming standby, else its primary; sessions are read-only either way).
pub const READ_ONLY_SUFFIX: &str = "-ro";

/// The endpoint a connection chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    /// Tenant id.
    pub tenant: String,
    /// Which key chose it.
    pub key: RouteKey,
    /// The pooled endpoint (`TENANT-pooler`) rather than the direct one.
    pub pooled: bool,
    /// The read-only endpoint (`TENANT-ro`).
    pub read_only: bool,
}

/// A tenant's route with its allowlist parsed.
#[derive(Debug, Clone)]
pub struct TenantRoute {
    /// The route as written by the CLI.
    pub route: Route,
    /// Parsed allowlist (empty: everyone).
    pub allow: Vec<IpNet>,
    /// An HA tenant without a primary now: refused until the failover ends.
    pub failing_over: bool,
    /// An HA tenant's streaming standby (for `TENANT-ro`), as the agent last saw it.
    pub standby: Option<crate::state::Backend>,
}

/// The routing table: an immutable snapshot of `routes.json`, swapped whole on reload.
#[derive(Debug, Default)]
pub struct Table {
    /// Public domain (lowercase).
    pub domain: String,
    /// `routes.json` generation.
    pub generation: u64,
    /// Tenants by id.
    pub tenants: HashMap<String, TenantRoute>,
}

impl Table {
    /// Builds a table from route data; an unparsable allowlist entry is an error (the previous
    /// table stays in force).
    pub fn build(routes: &Routes) -> Result<Self, String> {
        let mut tenants = HashMap::new();
        for r in &routes.tenants {
            let allow = r
                .allow
                .iter()
                .map(|a| a.parse::<IpNet>().or_else(|_| a.parse::<IpAddr>().map(IpNet::from)))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("tenant {}: bad allowlist entry: {e}", r.id))?;
            tenants
                .insert(r.id.to_string(), TenantRoute { route: r.clone(), allow, failing_over: false, standby: None });
        }
        Ok(Self { domain: routes.domain.to_ascii_lowercase(), generation: routes.generation, tenants })
    }

    /// Points every HA tenant at the copy `view` names primary (its socket here, or the gateway
    /// of its node); one with no primary is failing over. A tenant `view` does not know yet
    /// keeps the route to its own node.
    pub fn follow_primaries(&mut self, view: &crate::state::HaView) {
        for (id, t) in self.tenants.iter_mut() {
            let Some(ha) = &t.route.ha else { continue };
            let Some(roles) = view.tenants.get(id) else { continue };
            t.standby = roles.standby.as_ref().and_then(|s| ha.members.get(s)).cloned();
            match roles.primary.as_ref().and_then(|p| ha.members.get(p)) {
                Some(backend) => {
                    t.route.backend = backend.clone();
                    t.failing_over = false;
                }
                None => t.failing_over = true,
            }
        }
    }

    /// Holds the clients of the tenants a node's controller suspended (`suspended.json`), as
    /// `routes.json` does for the manager's own: only a tenant reached on this node's socket.
    pub fn hold_suspended(&mut self, marks: &crate::state::Suspensions) {
        for id in &marks.tenants {
            if let Some(t) = self.tenants.get_mut(id.as_str())
                && t.route.backend.peer.is_none()
                && t.route.ha.is_none()
            {
                t.route.suspended = true;
            }
        }
    }

    /// Whether `other`, made of the same `routes.json`, routes every tenant as this table does:
    /// every HA tenant to the same primary, standby and failover state, and the same tenants
    /// held as suspended.
    pub fn same_overlays(&self, other: &Table) -> bool {
        self.tenants.len() == other.tenants.len()
            && self.tenants.iter().all(|(id, t)| {
                other.tenants.get(id).is_some_and(|o| {
                    o.route.suspended == t.route.suspended
                        && (t.route.ha.is_none()
                            || (o.failing_over == t.failing_over
                                && o.standby == t.standby
                                && o.route.backend == t.route.backend))
                })
            })
    }

    /// The tenant named by an SNI hostname directly under the domain.
    fn tenant_from_sni(&self, sni: &str) -> Option<String> {
        let sni = sni.trim_end_matches('.').to_ascii_lowercase();
        let label = sni.strip_suffix(&self.domain)?.strip_suffix('.')?;
        (!label.is_empty() && !label.contains('.')).then(|| label.to_string())
    }

    /// The tenant and endpoint a name (from any key) stands for: a tenant id, or a tenant id
    /// with [`POOLER_SUFFIX`] (pooled) or [`READ_ONLY_SUFFIX`] (read-only); anything else is taken
    /// as a tenant id (refused by `admit`).
    fn endpoint(&self, name: String) -> (String, bool, bool) {
        if !self.tenants.contains_key(&name) {
            if let Some(base) = name.strip_suffix(POOLER_SUFFIX)
                && self.tenants.contains_key(base)
            {
                return (base.to_string(), true, false);
            }
            if let Some(base) = name.strip_suffix(READ_ONLY_SUFFIX)
                && self.tenants.contains_key(base)
            {
                return (base.to_string(), false, true);
            }
        }
        (name, false, false)
    }

    /// Picks the tenant for a connection and rewrites the startup message (strips the
    /// `tenant=` option and the `.TENANT` user suffix). Keys must name the same tenant; one
    /// that names its pooled endpoint makes the connection pooled.
    pub fn choose(&self, sni: Option<&str>, startup: &mut Startup) -> Result<Chosen, Refusal> {
        let mut chosen: Option<Chosen> = None;
        let mut agree = |name: String, key: RouteKey| -> Result<(), Refusal> {
            let (tenant, pooled, read_only) = self.endpoint(name);
            match &mut chosen {
                Some(c) if c.tenant != tenant => Err(Refusal::Conflict(c.tenant.clone(), tenant)),
                Some(c) => {
                    c.pooled |= pooled;
                    c.read_only |= read_only;
                    Ok(())
                }
                None => {
                    chosen = Some(Chosen { tenant, key, pooled, read_only });
                    Ok(())
                }
            }
        };
        if let Some(t) = sni.and_then(|s| self.tenant_from_sni(s)) {
            agree(t, RouteKey::Sni)?;
        }
        if let Some(options) = startup.get("options").map(str::to_owned) {
            let (tenant, rest) = split_options(&options);
            if let Some(t) = tenant {
                agree(t, RouteKey::Options)?;
                if rest.is_empty() { startup.remove("options") } else { startup.set("options", rest) }
            }
        }
        let user = startup.get("user").unwrap_or_default().to_string();
        if let Some((name, suffix)) = user.rsplit_once('.') {
            // Only a known tenant or endpoint makes the suffix a routing key.
            let known = self.tenants.contains_key(&self.endpoint(suffix.to_string()).0);
            if known && !name.is_empty() {
                agree(suffix.to_string(), RouteKey::UserSuffix)?;
                startup.set("user", name.to_string());
            }
        }
        if chosen.is_none() && self.tenants.contains_key(&user) {
            chosen = Some(Chosen { tenant: user, key: RouteKey::User, pooled: false, read_only: false });
        }
        chosen.ok_or(Refusal::NoTenant)
    }

    /// Checks that `tenant` exists, is open, running and admits `client`.
    pub fn admit(&self, tenant: &str, client: IpAddr) -> Result<&TenantRoute, Refusal> {
        let t = self.tenants.get(tenant).ok_or_else(|| Refusal::UnknownTenant(tenant.to_string()))?;
        if !t.route.access {
            return Err(Refusal::AccessDisabled(tenant.to_string()));
        }
        if !t.allow.is_empty() && !t.allow.iter().any(|n| n.contains(&client)) {
            return Err(Refusal::NotAllowed(tenant.to_string()));
        }
        if !t.route.running {
            return Err(Refusal::Stopped(tenant.to_string()));
        }
        if t.failing_over {
            return Err(Refusal::FailingOver(tenant.to_string()));
        }
        Ok(t)
    }
}

/// Splits a libpq `options` string into the tenant it names (`tenant=X` or `--tenant=X`) and
/// the remaining options, which are kept as they were (backslash-escaped spaces included).
fn split_options(options: &str) -> (Option<String>, String) {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut chars = options.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                current.push(c);
                if let Some(n) = chars.next() {
                    current.push(n);
                }
            }
            c if c.is_whitespace() => {
                if !current.is_empty() {
                    tokens.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    let mut tenant = None;
    tokens.retain(|t| match t.strip_prefix("--").unwrap_or(t).strip_prefix("tenant=") {
        Some(v) => {
            tenant = Some(v.to_ascii_lowercase());
            false
        }
        None => true,
    });
    (tenant, tokens.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{Backend, TenantId};

    fn table() -> Table {
        let route = |id: &str, access: bool, running: bool, allow: &[&str]| Route {
            id: TenantId::parse(id).unwrap(),
            host: format!("{id}.pgs.test"),
            access,
            allow: allow.iter().map(|s| s.to_string()).collect(),
            running,
            suspended: false,
            wakeable: false,
            pool: Default::default(),
            ha: None,
            backend: Backend {
                loopback: "127.0.0.1:1".into(),
                address: "10.0.0.2:5432".into(),
                network: "n".into(),
                container: "c:5432".into(),
                socket: None,
                peer: None,
            },
        };
        Table::build(&Routes {
            schema_version: 1,
            generation: 1,
            domain: "pgs.test".into(),
            gateway_port: 5432,
            tenants: vec![
                route("t1", true, true, &[]),
                route("t2", false, true, &[]),
                route("t3", true, false, &[]),
                route("t4", true, true, &["192.168.1.0/24", "10.9.9.9"]),
            ],
        })
        .unwrap()
    }

    fn c(tenant: &str, key: RouteKey) -> Chosen {
        Chosen { tenant: tenant.into(), key, pooled: false, read_only: false }
    }

    fn startup(params: &[(&str, &str)]) -> Startup {
        Startup { version: 196608, params: params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect() }
    }

    #[test]
    fn sni_first_case_insensitive_and_only_one_label() {
        let t = table();
        let mut s = startup(&[("user", "alice")]);
        assert_eq!(t.choose(Some("T1.PGS.test"), &mut s).unwrap(), c("t1", RouteKey::Sni));
        assert_eq!(t.choose(Some("a.t1.pgs.test"), &mut s), Err(Refusal::NoTenant));
        assert_eq!(t.choose(Some("pgs.test"), &mut s), Err(Refusal::NoTenant));
        assert_eq!(t.choose(Some("t1.other.test"), &mut s), Err(Refusal::NoTenant));
        // An unknown name under the domain is chosen, and refused by admit.
        assert_eq!(t.choose(Some("nope.pgs.test"), &mut s).unwrap().tenant, "nope");
    }

    #[test]
    fn options_key_is_removed_and_other_options_kept() {
        let t = table();
        let mut s = startup(&[("user", "alice"), ("options", "-c search_path=a\\ b tenant=t1 -c x=y")]);
        assert_eq!(t.choose(None, &mut s).unwrap(), c("t1", RouteKey::Options));
        assert_eq!(s.get("options"), Some("-c search_path=a\\ b -c x=y"));
        let mut s = startup(&[("user", "alice"), ("options", "--tenant=t1")]);
        assert_eq!(t.choose(None, &mut s).unwrap().tenant, "t1");
        assert_eq!(s.get("options"), None);
    }

    #[test]
    fn user_suffix_and_plain_user() {
        let t = table();
        let mut s = startup(&[("user", "alice.t1")]);
        assert_eq!(t.choose(None, &mut s).unwrap(), c("t1", RouteKey::UserSuffix));
        assert_eq!(s.get("user"), Some("alice"));
        let mut s = startup(&[("user", "t1")]);
        assert_eq!(t.choose(None, &mut s).unwrap(), c("t1", RouteKey::User));
        assert_eq!(s.get("user"), Some("t1"));
        // A dot in a role name that is not a tenant stays as it is.
        let mut s = startup(&[("user", "first.last")]);
        assert_eq!(t.choose(None, &mut s), Err(Refusal::NoTenant));
        assert_eq!(s.get("user"), Some("first.last"));
    }

    #[test]
    fn conflicting_keys_are_refused() {
        let t = table();
        let mut s = startup(&[("user", "alice"), ("options", "tenant=t2")]);
        assert!(matches!(t.choose(Some("t1.pgs.test"), &mut s), Err(Refusal::Conflict(..))));
        let mut s = startup(&[("user", "alice.t2")]);
        assert!(matches!(t.choose(Some("t1.pgs.test"), &mut s), Err(Refusal::Conflict(..))));
        // Agreeing keys are fine.
        let mut s = startup(&[("user", "alice.t1"), ("options", "tenant=t1")]);
        assert_eq!(t.choose(Some("t1.pgs.test"), &mut s).unwrap().tenant, "t1");
        assert_eq!(s.get("user"), Some("alice"));
    }

    #[test]
    fn the_pooler_suffix_names_the_pooled_endpoint_with_every_key() {
        let t = table();
        let pooled = |key| Chosen { tenant: "t1".into(), key, pooled: true, read_only: false };
        let mut s = startup(&[("user", "alice")]);
        assert_eq!(t.choose(Some("t1-pooler.pgs.test"), &mut s).unwrap(), pooled(RouteKey::Sni));
        let mut s = startup(&[("user", "alice"), ("options", "tenant=t1-pooler")]);
        assert_eq!(t.choose(None, &mut s).unwrap(), pooled(RouteKey::Options));
        let mut s = startup(&[("user", "alice.t1-pooler")]);
        assert_eq!(t.choose(None, &mut s).unwrap(), pooled(RouteKey::UserSuffix));
        assert_eq!(s.get("user"), Some("alice"));
        // The direct and the pooled endpoint of one tenant agree: pooled.
        let mut s = startup(&[("user", "alice.t1")]);
        assert_eq!(t.choose(Some("t1-pooler.pgs.test"), &mut s).unwrap(), pooled(RouteKey::Sni));
        // Another tenant's pooler conflicts; an unknown one is an unknown tenant.
        let mut s = startup(&[("user", "alice.t2-pooler")]);
        assert!(matches!(t.choose(Some("t1.pgs.test"), &mut s), Err(Refusal::Conflict(..))));
        let mut s = startup(&[("user", "alice")]);
        assert_eq!(t.choose(Some("zz-pooler.pgs.test"), &mut s).unwrap().tenant, "zz-pooler");
    }

    #[test]
    fn admission() {
        let t = table();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(t.admit("t1", ip("1.2.3.4")).is_ok());
        assert_eq!(t.admit("zz", ip("1.2.3.4")).unwrap_err(), Refusal::UnknownTenant("zz".into()));
        assert_eq!(t.admit("t2", ip("1.2.3.4")).unwrap_err(), Refusal::AccessDisabled("t2".into()));
        assert_eq!(t.admit("t3", ip("1.2.3.4")).unwrap_err(), Refusal::Stopped("t3".into()));
        assert!(t.admit("t4", ip("192.168.1.7")).is_ok());
        assert!(t.admit("t4", ip("10.9.9.9")).is_ok());
        assert_eq!(t.admit("t4", ip("192.168.2.7")).unwrap_err(), Refusal::NotAllowed("t4".into()));
    }

    #[test]
    fn a_node_controllers_suspensions_hold_only_tenants_reached_here() {
        let mut table = table();
        table.tenants.get_mut("t2").unwrap().route.backend = Backend::peer("10.0.0.3:5432".into());
        let before = Table { tenants: table.tenants.clone(), domain: table.domain.clone(), generation: 1 };
        let marks = crate::state::Suspensions {
            tenants: ["t1", "t2", "gone"].iter().map(|t| TenantId::parse(t).unwrap()).collect(),
        };
        table.hold_suspended(&marks);
        assert!(table.tenants["t1"].route.suspended);
        // Another node's tenant is held by that node's gateway, not relayed to be held twice.
        assert!(!table.tenants["t2"].route.suspended);
        assert!(!before.same_overlays(&table), "a new suspension must swap the table in");
    }

    #[test]
    fn an_ha_tenant_follows_its_primary_and_its_standby_serves_ro() {
        let mut table = table();
        let socket = Backend::socket(&TenantId::parse("t1").unwrap());
        let peer = Backend::peer("10.0.0.3:5432".into());
        table.tenants.get_mut("t1").unwrap().route.ha = Some(crate::state::HaRoute {
            durability: crate::state::Durability::Required,
            members: [("n1".to_string(), socket.clone()), ("n2".to_string(), peer.clone())].into(),
            relays: Default::default(),
            image: "img".into(),
            volume: "v".into(),
            data_mount: "/d".into(),
        });
        let view = |primary: Option<&str>, standby: Option<&str>| crate::state::HaView {
            at_ms: 1,
            tenants: [(
                "t1".to_string(),
                crate::state::HaRoles {
                    primary: primary.map(str::to_owned),
                    standby: standby.map(str::to_owned),
                    epoch: 2,
                    refused: None,
                },
            )]
            .into(),
        };
        let client = "10.1.1.1".parse().unwrap();
        table.follow_primaries(&view(Some("n2"), Some("n1")));
        assert_eq!(table.admit("t1", client).unwrap().route.backend, peer);
        assert_eq!(table.admit("t1", client).unwrap().standby, Some(socket.clone()));
        let before = Table { tenants: table.tenants.clone(), domain: table.domain.clone(), generation: 1 };
        table.follow_primaries(&view(Some("n1"), None));
        assert_eq!(table.admit("t1", client).unwrap().route.backend, socket);
        assert!(!before.same_overlays(&table));
        table.follow_primaries(&view(None, None));
        assert_eq!(table.admit("t1", client).unwrap_err(), Refusal::FailingOver("t1".into()));
        // `TENANT-ro` names the tenant's read-only endpoint, by any key.
        let mut startup = startup(&[("user", "t1")]);
        let chosen = table.choose(Some("t1-ro.pgs.test"), &mut startup).unwrap();
        assert!(chosen.read_only && !chosen.pooled && chosen.tenant == "t1", "{chosen:?}");
    }
}
