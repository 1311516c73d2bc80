//! `pgs enable-access` / `disable-access` and `pgs allow` / `deny`: what the gateway admits.

use super::{Error, Platform, Result};

impl Platform {
    /// Adds networks to (`add`) or removes them from a tenant's allowlist; returns the new list.
    pub fn set_allow(&self, id: &str, networks: &[String], add: bool) -> Result<Vec<String>> {
        let (_, id, _) = self.tenant(id)?;
        let networks = networks.iter().map(|n| parse_network(n)).collect::<Result<Vec<_>>>()?;
        self.state.update(|_, tenants, _| -> Result<Vec<String>> {
            let t = tenants.tenants.get_mut(&id).ok_or_else(|| Error::NoTenant(id.clone()))?;
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
            tenants.tenants.get_mut(&id).ok_or_else(|| Error::NoTenant(id.clone()))?.access = access;
            Ok(())
        })
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
