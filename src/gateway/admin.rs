//! `GET /health`, `GET /ready` and `GET /metrics` on the health address: a minimal HTTP/1.1
//! responder with bounded reads and timeouts.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::Gateway;

/// Serves the endpoints forever.
pub async fn serve(listener: TcpListener, gw: Arc<Gateway>) {
    loop {
        let Ok((mut tcp, _)) = listener.accept().await else { continue };
        let gw = gw.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 2048];
            let mut n = 0;
            let read = tokio::time::timeout(Duration::from_secs(5), async {
                while n < buf.len() {
                    let m = tcp.read(&mut buf[n..]).await?;
                    if m == 0 {
                        break;
                    }
                    n += m;
                    if buf[..n].windows(4).any(|w| w == b"\r\n\r\n") || buf[..n].contains(&b'\n') {
                        break;
                    }
                }
                Ok::<_, std::io::Error>(())
            })
            .await;
            if !matches!(read, Ok(Ok(()))) {
                return;
            }
            let line = String::from_utf8_lossy(&buf[..n]);
            let path = line.split_whitespace().nth(1).unwrap_or("/");
            let (status, ctype, body) = respond(&gw, path).await;
            let resp = format!(
                "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = tokio::time::timeout(Duration::from_secs(5), tcp.write_all(resp.as_bytes())).await;
        });
    }
}

async fn respond(gw: &Gateway, path: &str) -> (&'static str, &'static str, String) {
    match path {
        "/health" => ("200 OK", "text/plain", "ok\n".into()),
        "/ready" if gw.ready() => ("200 OK", "text/plain", "ready\n".into()),
        "/ready" => ("503 Service Unavailable", "text/plain", "not ready: routes or certificate not loaded\n".into()),
        "/metrics" => {
            let mut body = gw.metrics.render();
            let (used, idle) = gw.pools.server_connections();
            body.push_str(&format!(
                "# HELP pgs_gateway_pool_server_connections Server connections of pooled endpoints, by state.\n\
                 # TYPE pgs_gateway_pool_server_connections gauge\n\
                 pgs_gateway_pool_server_connections{{state=\"used\"}} {used}\n\
                 pgs_gateway_pool_server_connections{{state=\"idle\"}} {idle}\n"
            ));
            body.push_str(
                "# HELP pgs_gateway_pool_reserved Pooled clients holding a server connection of their own (auto mode), by the first reason.\n\
                 # TYPE pgs_gateway_pool_reserved gauge\n",
            );
            let by_tenant = gw.pools.reserved_by_tenant();
            for reason in super::pool::guard::Reason::ALL {
                let n: usize = by_tenant.values().filter_map(|r| r.get(reason.label())).sum();
                body.push_str(&format!("pgs_gateway_pool_reserved{{reason=\"{}\"}} {n}\n", reason.label()));
            }
            body.push_str(
                "# HELP pgs_gateway_pool_in_use Server connections of a tenant's pooled endpoint in use now.\n\
                 # TYPE pgs_gateway_pool_in_use gauge\n",
            );
            let usage = gw.pools.usage_by_tenant();
            for (tenant, (in_use, _)) in &usage {
                body.push_str(&format!("pgs_gateway_pool_in_use{{tenant=\"{tenant}\"}} {in_use}\n"));
            }
            body.push_str(
                "# HELP pgs_gateway_pool_size Server connections a tenant's pooled endpoint may open (over its roles and databases).\n\
                 # TYPE pgs_gateway_pool_size gauge\n",
            );
            for (tenant, (_, size)) in &usage {
                body.push_str(&format!("pgs_gateway_pool_size{{tenant=\"{tenant}\"}} {size}\n"));
            }
            if let Some(expiry) = crate::certs::store::not_after(&gw.state.cert_files().cert()) {
                body.push_str(&format!(
                    "# HELP pgs_certificate_expiry_timestamp_seconds When the gateway's certificate expires (Unix time).\n\
                     # TYPE pgs_certificate_expiry_timestamp_seconds gauge\n\
                     pgs_certificate_expiry_timestamp_seconds {expiry}\n"
                ));
            }
            let mut body = super::metrics::with_generation(&body, gw.generation);
            if let Ok(tenants) = gw.state.tenants() {
                // A node's copy of its own tenants: the manager's gateway reports every tenant.
                if tenants.node.is_none() {
                    body.push_str(&super::metrics::render_tenant_states(&tenants));
                    body.push_str(&super::metrics::render_backups(&tenants));
                    if let Ok(config) = gw.state.config() {
                        body.push_str(&super::metrics::render_nodes(&config));
                    }
                }
                let now_ms = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as u64);
                body.push_str(&super::metrics::render_ha(&gw.state.ha_view(), now_ms));
            }
            body.push_str(&gw.stats.render(gw).await);
            ("200 OK", "text/plain; version=0.0.4", body)
        }
        "/status" => {
            let body = serde_json::json!({
                "version": env!("CARGO_PKG_VERSION"),
                "generation": gw.generation,
                "uptime_secs": gw.started.elapsed().as_secs(),
                "ready": gw.ready(),
                "open_sessions": gw.metrics.open_sessions(),
                "routes_generation": gw.routes.load().generation,
                // Pooled clients holding a connection of their own (auto mode), by tenant and reason.
                "pool_reserved": gw.pools.reserved_by_tenant(),
            });
            ("200 OK", "application/json", format!("{body}\n"))
        }
        _ => ("404 Not Found", "text/plain", "not found\n".into()),
    }
}
