//! The `cloudflare` provider: TXT records through Cloudflare's API v4 with an API token that
//! may edit the zone's DNS (`Zone:DNS:Edit`). The zone is the longest suffix of the name that
//! the token can see.

use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Record, Secret};
use crate::certs::{CertError, Result};

/// The API's address; `PGS_CLOUDFLARE_API` replaces it (an API-compatible proxy, or tests).
const API: &str = "https://api.cloudflare.com/client/v4";
/// How long one API call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest API reply read.
const MAX_REPLY: usize = 1 << 20;
/// TTL of the challenge records (Cloudflare's minimum).
const TTL: u32 = 60;

/// Credentials for the API.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cloudflare {
    /// API token (from `CLOUDFLARE_API_TOKEN` at issue time).
    pub token: Secret,
}

fn api_base() -> String {
    std::env::var("PGS_CLOUDFLARE_API").unwrap_or_else(|_| API.to_string())
}

impl Cloudflare {
    /// One API call; returns the `result` member, or an error with Cloudflare's messages.
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value> {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .try_with_platform_verifier()
            .map_err(CertError::CloudflareRoots)?
            .https_or_http()
            .enable_http1()
            .build();
        let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build(https);
        let url = format!("{}{path}", api_base());
        let request = Request::builder()
            .method(method.clone())
            .uri(&url)
            .header("authorization", format!("Bearer {}", self.token.expose()))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.map(|b| b.to_string()).unwrap_or_default())))
            .map_err(CertError::CloudflareRequest)?;
        let path = path.to_string();
        let response = match tokio::time::timeout(CALL_TIMEOUT, client.request(request)).await {
            Err(source) => {
                return Err(CertError::TimeoutCloudflare { method, path, secs: CALL_TIMEOUT.as_secs(), source });
            }
            Ok(Err(source)) => return Err(CertError::CloudflareUnreachable { method, path, source }),
            Ok(Ok(response)) => response,
        };
        let status = response.status();
        let bytes = match Limited::new(response.into_body(), MAX_REPLY).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(error) => return Err(CertError::CloudflareReply { method, path, error }),
        };
        let doc: Value = match serde_json::from_slice(&bytes) {
            Ok(doc) => doc,
            Err(source) => return Err(CertError::CloudflareNotJson { method, path, status, source }),
        };
        if status.is_success() && doc["success"] == true {
            return Ok(doc["result"].clone());
        }
        let messages: Vec<String> = doc["errors"]
            .as_array()
            .map(|errs| {
                errs.iter().map(|e| format!("{} ({})", e["message"].as_str().unwrap_or("?"), e["code"])).collect()
            })
            .unwrap_or_default();
        Err(CertError::CloudflareRefused { method, path, status, messages })
    }

    /// The id of the zone holding `fqdn`: the longest suffix the token can see.
    async fn zone_id(&self, fqdn: &str) -> Result<String> {
        let name = fqdn.trim_end_matches('.');
        let labels: Vec<&str> = name.split('.').collect();
        for start in 1..labels.len().saturating_sub(1) {
            let candidate = labels[start..].join(".");
            let zones = self.call(Method::GET, &format!("/zones?name={candidate}"), None).await?;
            if let Some(id) = zones.get(0).and_then(|z| z["id"].as_str()) {
                return Ok(id.to_string());
            }
        }
        Err(CertError::CloudflareNoZone { name: name.to_string() })
    }

    /// Creates the TXT record.
    pub async fn present(&self, r: &Record) -> Result<()> {
        let zone = self.zone_id(&r.fqdn).await?;
        let name = r.fqdn.trim_end_matches('.');
        self.call(
            Method::POST,
            &format!("/zones/{zone}/dns_records"),
            Some(json!({"type": "TXT", "name": name, "content": r.value, "ttl": TTL})),
        )
        .await?;
        Ok(())
    }

    /// Deletes the TXT record with this value (others at the name stay).
    pub async fn cleanup(&self, r: &Record) -> Result<()> {
        let zone = self.zone_id(&r.fqdn).await?;
        let name = r.fqdn.trim_end_matches('.');
        // Names and ACME values (base64url) need no escaping in a query string.
        let found = self
            .call(Method::GET, &format!("/zones/{zone}/dns_records?type=TXT&name={name}&content={}", r.value), None)
            .await?;
        for record in found.as_array().into_iter().flatten() {
            if let Some(id) = record["id"].as_str() {
                self.call(Method::DELETE, &format!("/zones/{zone}/dns_records/{id}"), None).await?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    //! Cloudflare's API cannot be reached from the test machines, so these tests run the
    //! provider against a local HTTP stub that records each request and answers as the API
    //! documents. They check the request sequence, not Cloudflare itself.

    use std::sync::{Arc, Mutex};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// Serves one request per connection; `answer(method, path)` gives (status, JSON body).
    async fn stub(answer: fn(&str, &str) -> (u16, Value)) -> (String, Arc<Mutex<Vec<String>>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/client/v4", listener.local_addr().unwrap());
        let log = Arc::new(Mutex::new(Vec::new()));
        let seen = log.clone();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let (head, body) = loop {
                    let n = sock.read(&mut chunk).await.unwrap();
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let len = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse().unwrap())
                            })
                            .unwrap_or(0usize);
                        if body.len() >= len {
                            break (head.to_string(), body.to_string());
                        }
                    }
                };
                let mut words = head.split_whitespace();
                let (method, path) = (words.next().unwrap().to_string(), words.next().unwrap().to_string());
                let path = path.trim_start_matches("/client/v4").to_string();
                assert!(head.contains("authorization: Bearer tok3n"), "{head}");
                seen.lock().unwrap().push(format!("{method} {path} {body}").trim().to_string());
                let (status, reply) = answer(&method, &path);
                let reply = reply.to_string();
                let response = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
                    reply.len()
                );
                sock.write_all(response.as_bytes()).await.unwrap();
            }
        });
        (base, log)
    }

    fn api(method: &str, path: &str) -> (u16, Value) {
        let ok = |result: Value| (200, json!({"success": true, "errors": [], "result": result}));
        match (method, path) {
            ("GET", "/zones?name=pgs.example.com") => ok(json!([])),
            ("GET", "/zones?name=example.com") => ok(json!([{"id": "z1", "name": "example.com"}])),
            ("POST", "/zones/z1/dns_records") => ok(json!({"id": "r1"})),
            ("GET", p) if p.starts_with("/zones/z1/dns_records?") => ok(json!([{"id": "r1"}])),
            ("DELETE", "/zones/z1/dns_records/r1") => ok(json!({"id": "r1"})),
            _ => (404, json!({"success": false, "errors": [{"code": 7003, "message": "no route"}]})),
        }
    }

    fn record() -> Record {
        Record { fqdn: "_acme-challenge.pgs.example.com.".into(), value: "abc_-123".into() }
    }

    #[tokio::test]
    async fn present_and_cleanup_find_the_zone_then_create_and_delete_by_value() {
        let (base, log) = stub(api).await;
        // SAFETY: this is the only test in the binary that reads or writes the variable.
        unsafe { std::env::set_var("PGS_CLOUDFLARE_API", &base) };
        let cf = Cloudflare { token: Secret::new("tok3n".into()) };
        cf.present(&record()).await.unwrap();
        cf.cleanup(&record()).await.unwrap();
        let forbidden = Cloudflare { token: Secret::new("tok3n".into()) };
        let err = forbidden.call(Method::GET, "/nothing", None).await.unwrap_err().to_string();
        assert!(err.contains("HTTP 404") && err.contains("no route (7003)"), "{err}");
        let log = log.lock().unwrap().clone();
        assert_eq!(
            log,
            vec![
                "GET /zones?name=pgs.example.com",
                "GET /zones?name=example.com",
                r#"POST /zones/z1/dns_records {"content":"abc_-123","name":"_acme-challenge.pgs.example.com","ttl":60,"type":"TXT"}"#,
                "GET /zones?name=pgs.example.com",
                "GET /zones?name=example.com",
                "GET /zones/z1/dns_records?type=TXT&name=_acme-challenge.pgs.example.com&content=abc_-123",
                "DELETE /zones/z1/dns_records/r1",
                "GET /nothing",
            ]
        );
    }
}
