//! Allocation of the per-tenant resources that must not collide: loopback ports and subnets.

use std::collections::HashSet;
use std::net::{Ipv4Addr, TcpListener};

use crate::state::parse_cidr;

/// Prefix length of each tenant's subnet: 32 addresses, room for the tenant's container, the
/// managed gateway and the bridge itself.
pub const TENANT_PREFIX: u8 = 27;

/// Picks a free TCP port on 127.0.0.1 that no tenant has recorded yet.
pub fn pick_port(taken: &HashSet<u16>) -> std::io::Result<u16> {
    for _ in 0..64 {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?.local_addr()?.port();
        if !taken.contains(&port) {
            return Ok(port);
        }
    }
    Err(std::io::Error::other("no free port on 127.0.0.1"))
}

fn range(cidr: &str) -> Option<(u32, u32)> {
    let (base, len) = parse_cidr(cidr)?;
    let size = if len == 0 { u32::MAX } else { (1u32 << (32 - len)) - 1 };
    Some((u32::from(base), u32::from(base) + size))
}

/// Picks the first `/27` in `pool` that overlaps none of `used` (IPv6 entries are ignored).
pub fn pick_subnet<'a>(pool: &str, used: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let (start, end) = range(pool)?;
    let used: Vec<(u32, u32)> = used.into_iter().filter_map(range).collect();
    let step = 1u32 << (32 - TENANT_PREFIX);
    let mut candidate = start.checked_add(step - 1)? & !(step - 1);
    while candidate.checked_add(step - 1)? <= end {
        let last = candidate + step - 1;
        if used.iter().all(|&(a, b)| last < a || candidate > b) {
            return Some(format!("{}/{TENANT_PREFIX}", Ipv4Addr::from(candidate)));
        }
        candidate = candidate.checked_add(step)?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnets_skip_used_ranges() {
        assert_eq!(pick_subnet("10.213.0.0/16", []).as_deref(), Some("10.213.0.0/27"));
        assert_eq!(pick_subnet("10.213.0.0/16", ["10.213.0.0/27"]).as_deref(), Some("10.213.0.32/27"));
        // A wide network elsewhere that covers the pool start pushes past it.
        assert_eq!(pick_subnet("10.213.0.0/16", ["10.213.0.0/24", "fd00::/64"]).as_deref(), Some("10.213.1.0/27"));
        assert_eq!(pick_subnet("10.213.0.0/27", ["10.213.0.0/27"]), None);
        assert_eq!(pick_subnet("10.0.0.0/8", ["10.0.0.0/8"]), None);
    }

    #[test]
    fn ports_avoid_taken() {
        let p = pick_port(&HashSet::new()).unwrap();
        assert!(p > 0);
    }
}
