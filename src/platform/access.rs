//! `pgs enable-access` / `disable-access`, `pgs allow` / `deny` and `pgs pool`: what the gateway
//! admits, and how its pooled endpoint shares server connections.

use super::{Error, Platform, PoolChange, Result};

impl Platform {
    /// Changes a tenant's pooled endpoint (what `change` sets; nothing: shows it); returns the
    /// settings in force. The gateway applies them at its next route reload; the other nodes'
    /// gateways are told at once.
    pub async fn set_pool(&self, id: &str, change: &PoolChange) -> Result<PoolView> {
        let id = crate::state::TenantId::parse(id)?;
        let out_of = |n: Option<u32>, max: u32| n.is_some_and(|n| !(1..=max).contains(&n));
        if out_of(change.size, 10_000) || out_of(change.reserve, 10_000) || out_of(change.max_clients, 1_000_000) {
            return Err(Error::Invalid("pool size and reserve are 1 to 10000, max clients 1 to 1000000".to_string()));
        }
        let changes = change.mode.is_some()
            || change.size.is_some()
            || change.max_clients.is_some()
            || change.queue_timeout_secs.is_some()
            || change.server_idle_timeout_secs.is_some()
            || change.reserve.is_some();
        if change.reset && changes {
            return Err(Error::Invalid("--reset takes no other pool setting".to_string()));
        }
        let settings = self.state.update(|_, tenants, _| -> Result<crate::state::PoolSettings> {
            let t = tenants.tenants.get_mut(&id).ok_or_else(|| Error::NoTenant(id.clone()))?;
            let derived = t.derived_pool();
            if change.reset {
                t.pool = None;
                return Ok(derived);
            }
            let mut s = t.pool.unwrap_or(derived);
            s.mode = change.mode.unwrap_or(s.mode);
            s.size = change.size.unwrap_or(s.size);
            s.max_clients = change.max_clients.unwrap_or(s.max_clients);
            s.queue_timeout_secs = change.queue_timeout_secs.unwrap_or(s.queue_timeout_secs);
            s.server_idle_timeout_secs = change.server_idle_timeout_secs.unwrap_or(s.server_idle_timeout_secs);
            if let Some(n) = change.reserve {
                if n > s.size {
                    return Err(Error::Invalid(format!(
                        "--reserve {n} is more than the pool's {} server connections: give at most --size",
                        s.size
                    )));
                }
                s.reserve = Some(n);
            }
            if s != derived || t.pool.is_some() {
                t.pool = Some(s);
            }
            Ok(s)
        })?;
        self.tell_nodes().await?;
        Ok(settings.into())
    }

    /// A tenant's pooled endpoint settings in force (nothing written).
    pub fn pool_settings(&self, id: &str) -> Result<PoolView> {
        Ok(self.tenant(id)?.2.pool_settings().into())
    }

    /// Adds networks to (`add`) or removes them from a tenant's allowlist and tells the other
    /// nodes' gateways; returns the new list.
    pub async fn set_allow(&self, id: &str, networks: &[String], add: bool) -> Result<Vec<String>> {
        let (_, id, _) = self.tenant(id)?;
        let networks = networks.iter().map(|n| parse_network(n)).collect::<Result<Vec<_>>>()?;
        let list = self.state.update(|_, tenants, _| -> Result<Vec<String>> {
            let t = tenants.tenants.get_mut(&id).ok_or_else(|| Error::NoTenant(id.clone()))?;
            for n in networks {
                if add && !t.allow.contains(&n) {
                    t.allow.push(n);
                } else if !add {
                    t.allow.retain(|a| *a != n);
                }
            }
            Ok(t.allow.clone())
        })?;
        self.tell_nodes().await?;
        Ok(list)
    }

    /// Turns the gateway's admission of a tenant's clients on or off, here and on the other
    /// nodes' gateways.
    pub async fn set_access(&self, id: &str, access: bool) -> Result<()> {
        let (_, id, _) = self.tenant(id)?;
        self.state.update(|_, tenants, _| -> Result<()> {
            tenants.tenants.get_mut(&id).ok_or_else(|| Error::NoTenant(id.clone()))?.access = access;
            Ok(())
        })?;
        self.tell_nodes().await
    }
}

/// A tenant's pooled endpoint as `pgs pool --json` and the API show it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PoolView {
    /// The settings in force.
    #[serde(flatten)]
    pub settings: crate::state::PoolSettings,
    /// How many server connections `auto` mode may reserve (`reserve`, or its default).
    pub reserve_limit: u32,
    /// Who holds a reserved connection now, by reason (when the gateway on this host answers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reserved: Option<std::collections::BTreeMap<String, u64>>,
}

impl From<crate::state::PoolSettings> for PoolView {
    fn from(settings: crate::state::PoolSettings) -> Self {
        Self { settings, reserve_limit: settings.reserve_limit(), reserved: None }
    }
}

/// Normalises a CIDR or a single address (as /32 or /128); the error names the bad entry.
fn parse_network(s: &str) -> Result<String> {
    let net =
        s.parse::<ipnet::IpNet>().or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from)).map_err(|_| {
            Error::Invalid(format!("invalid network {s:?}: expected a CIDR such as 203.0.113.0/24 or an address"))
        })?;
    Ok(net.trunc().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks() {
        assert_eq!(parse_network("10.1.2.3/8").unwrap(), "10.0.0.0/8");
        assert_eq!(parse_network("192.0.2.7").unwrap(), "192.0.2.7/32");
        assert_eq!(parse_network("::1").unwrap(), "::1/128");
        assert!(parse_network("nonsense").is_err());
    }
}
