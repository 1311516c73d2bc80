//! The consensus store: a small client for etcd v3, the one truth of who is primary for each HA
//! tenant. A node becomes primary by creating the tenant's leader key with a lease it keeps
//! alive ([`Store::grant`], [`Store::keep_alive`]); when the node stops renewing, etcd deletes
//! the key with the lease and another node may take it. Every change of who leads is a
//! compare-and-swap ([`Store::create`], [`Store::swap`], [`Store::delete_if`]), so two nodes can
//! never both believe the store named them.
//!
//! It speaks etcd's JSON gateway (HTTP/1.1 under `/v3/`, keys and values in base64, 64-bit
//! numbers as strings) over plain HTTP, to a list of endpoints: a request goes to the endpoint
//! that answered last, and moves on to the next when one does not connect, does not answer in
//! time, or answers that it has no leader right now. Each answer is read up to 4 MiB.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

/// Largest answer read from an endpoint.
const MAX_ANSWER: usize = 4 << 20;
/// The pause before the whole list of endpoints is tried a second time.
const RETRY_AFTER: Duration = Duration::from_millis(200);
/// etcd's answers while it elects a leader or loses one: the request may work on another
/// member, or on the same one a moment later.
const TRANSIENT: &[&str] = &["leader changed", "no leader", "request timed out"];
/// gRPC's "unavailable", the code of every transient etcd error.
const UNAVAILABLE: i64 = 14;

/// A client for the etcd cluster that holds the HA state, over its JSON gateway. Share one per
/// process (it keeps connections open and remembers which endpoint answered last).
#[derive(Debug)]
pub struct Store {
    /// Client URLs of the members, like `http://10.250.0.11:2379`.
    endpoints: Vec<String>,
    client: Client<HttpConnector, Full<Bytes>>,
    /// How long one request to one endpoint may take.
    timeout: Duration,
    /// Index in `endpoints` of the one that answered last.
    current: AtomicUsize,
}

/// One key as etcd holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Kv {
    /// The key.
    pub key: String,
    /// Its value.
    pub value: String,
    /// The store's revision when the key was last changed.
    pub mod_revision: i64,
    /// The store's revision when the key was created (since it last did not exist).
    pub create_revision: i64,
    /// The lease the key is bound to (deleted with it), 0 for none.
    pub lease: i64,
}

/// One member of the etcd cluster.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Member {
    /// Its name (empty for a member that was added but has not started yet).
    pub name: String,
    /// The URLs the other members reach it on.
    pub peer_urls: Vec<String>,
    /// The URLs clients reach it on.
    pub client_urls: Vec<String>,
}

/// How a request to the store fails.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No endpoint answered (in time, or with a leader); the text names each endpoint and why.
    #[error("{0}")]
    Unreachable(String),
    /// etcd answered with an error (a lease that does not exist, a malformed request, …).
    #[error("the store refused: {0}")]
    Refused(String),
    /// An answer that is not what etcd sends (not JSON, too long, a field of the wrong type).
    #[error("the store's answer cannot be read: {0}")]
    Malformed(String),
}

/// Why one exchange with one endpoint gave nothing usable.
enum Failure {
    /// The endpoint did not connect or answer in time, or has no leader now: try another.
    Down(String),
    /// etcd's error answer.
    Refused(String),
    /// An answer that cannot be read.
    Malformed(String),
}

type Result<T> = std::result::Result<T, StoreError>;

impl Store {
    /// A client for the members at `endpoints` (client URLs like `http://10.250.0.11:2379`; a
    /// bare `host:port` gets `http://`), with `timeout` for each request to one endpoint.
    pub fn new(endpoints: Vec<String>, timeout: Duration) -> Self {
        let endpoints = endpoints
            .into_iter()
            .map(|e| {
                let e = e.trim().trim_end_matches('/');
                if e.contains("://") { e.to_string() } else { format!("http://{e}") }
            })
            .collect();
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(timeout));
        let client = Client::builder(TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(30)).build(connector);
        Self { endpoints, client, timeout, current: AtomicUsize::new(0) }
    }

    /// The client URLs this store talks to.
    pub fn endpoints(&self) -> &[String] {
        &self.endpoints
    }

    /// The key, if it exists.
    pub async fn get(&self, key: &str) -> Result<Option<Kv>> {
        let doc = self.call("/v3/kv/range", json!({ "key": b64(key) })).await?;
        Ok(kvs(&doc)?.into_iter().next())
    }

    /// Every key that starts with `prefix`, in key order.
    pub async fn get_prefix(&self, prefix: &str) -> Result<Vec<Kv>> {
        // etcd has no empty key; "\0" to "\0" is the whole key space.
        let key = if prefix.is_empty() { vec![0] } else { prefix.as_bytes().to_vec() };
        let end = prefix_end(prefix.as_bytes());
        let doc =
            self.call("/v3/kv/range", json!({ "key": BASE64.encode(key), "range_end": BASE64.encode(end) })).await?;
        kvs(&doc)
    }

    /// Sets `key` to `value`, bound to `lease` if given (deleted when the lease ends).
    pub async fn put(&self, key: &str, value: &str, lease: Option<i64>) -> Result<()> {
        self.call("/v3/kv/put", put_request(key, value, lease)).await?;
        Ok(())
    }

    /// Deletes `key` (a key that does not exist is no error).
    pub async fn delete(&self, key: &str) -> Result<()> {
        self.call("/v3/kv/deleterange", json!({ "key": b64(key) })).await?;
        Ok(())
    }

    /// A new lease of `ttl_secs` seconds; returns its id.
    pub async fn grant(&self, ttl_secs: i64) -> Result<i64> {
        let doc = self.call("/v3/lease/grant", json!({ "TTL": ttl_secs.to_string() })).await?;
        match int(&doc, "ID")? {
            0 => Err(StoreError::Malformed(format!("/v3/lease/grant: no lease id in {}", snippet(&doc.to_string())))),
            id => Ok(id),
        }
    }

    /// Renews `lease` to its full TTL; returns the seconds it now has left. 0 means the lease
    /// is gone (expired or revoked): the keys bound to it are deleted.
    pub async fn keep_alive(&self, lease: i64) -> Result<i64> {
        let doc = self.call("/v3/lease/keepalive", json!({ "ID": lease.to_string() })).await?;
        // A stream in gRPC: each message of the answer is wrapped in "result".
        let message = doc.get("result").unwrap_or(&doc);
        Ok(int(message, "TTL")?.max(0))
    }

    /// Ends `lease` now and deletes the keys bound to it. A lease that is gone already is no
    /// error.
    pub async fn revoke(&self, lease: i64) -> Result<()> {
        match self.call("/v3/lease/revoke", json!({ "ID": lease.to_string() })).await {
            Err(StoreError::Refused(message)) if message.contains("lease not found") => Ok(()),
            other => other.map(|_| ()),
        }
    }

    /// Creates `key` = `value` (with `lease`) only if it does not exist, and in the same
    /// transaction puts every (key, value) of `also` (no lease). true if created.
    ///
    /// When an endpoint times out the transaction is sent again to the next one, so a
    /// transaction the first endpoint did apply answers false: read the key to be sure.
    pub async fn create(&self, key: &str, value: &str, lease: Option<i64>, also: &[(&str, &str)]) -> Result<bool> {
        let compare = json!({ "key": b64(key), "target": "CREATE", "result": "EQUAL", "create_revision": "0" });
        self.txn(compare, puts(key, value, lease, also)).await
    }

    /// Puts `key` = `value` (with `lease`) only if its value is `expected` now, and in the same
    /// transaction the puts of `also`. true if done (false too when `key` does not exist).
    ///
    /// As with [`Store::create`], a retry after a timeout may answer false for a transaction
    /// that was applied.
    pub async fn swap(
        &self,
        key: &str,
        expected: &str,
        value: &str,
        lease: Option<i64>,
        also: &[(&str, &str)],
    ) -> Result<bool> {
        self.txn(value_is(key, expected), puts(key, value, lease, also)).await
    }

    /// Deletes `key` only if its value is `expected`. true if deleted.
    pub async fn delete_if(&self, key: &str, expected: &str) -> Result<bool> {
        self.txn(value_is(key, expected), vec![json!({ "request_delete_range": { "key": b64(key) } })]).await
    }

    /// The members of the cluster, as the endpoint that answers knows them.
    pub async fn members(&self) -> Result<Vec<Member>> {
        let doc = self.call("/v3/cluster/member/list", json!({})).await?;
        let mut members = Vec::new();
        for m in list(&doc, "members")? {
            members.push(Member {
                name: string(m, "name")?,
                peer_urls: strings(m, &["peerURLs", "peer_urls", "peerUrls"])?,
                client_urls: strings(m, &["clientURLs", "client_urls", "clientUrls"])?,
            });
        }
        Ok(members)
    }

    /// Whether an endpoint answers /health with health true (a member that has quorum).
    pub async fn healthy(&self) -> bool {
        let n = self.endpoints.len();
        let start = self.current.load(Ordering::Relaxed);
        for at in (0..n).map(|i| (start + i) % n) {
            let Ok((_, bytes)) = self.send(&self.endpoints[at], Method::GET, "/health", None).await else {
                continue;
            };
            // etcd 3.4 says {"health":"true"}, a string.
            let health = first_json(&bytes).map(|doc| doc["health"].clone());
            if matches!(health, Some(Value::Bool(true))) || health.as_ref().and_then(Value::as_str) == Some("true") {
                self.current.store(at, Ordering::Relaxed);
                return true;
            }
        }
        false
    }

    /// A transaction of one comparison: `success` if it holds. Whether it held.
    async fn txn(&self, compare: Value, success: Vec<Value>) -> Result<bool> {
        let doc = self.call("/v3/kv/txn", json!({ "compare": [compare], "success": success })).await?;
        flag(&doc, "succeeded")
    }

    /// POSTs `body` to `path` on the endpoints in turn from the one that answered last, then
    /// once more after [`RETRY_AFTER`]; the first answer that is not a transient error is
    /// the result.
    async fn call(&self, path: &str, body: Value) -> Result<Value> {
        let n = self.endpoints.len();
        let mut why = Vec::new();
        for round in 0..2 {
            if round > 0 {
                tokio::time::sleep(RETRY_AFTER).await;
            }
            why.clear();
            let start = self.current.load(Ordering::Relaxed);
            for at in (0..n).map(|i| (start + i) % n) {
                let endpoint = &self.endpoints[at];
                let answer = match self.send(endpoint, Method::POST, path, Some(&body)).await {
                    Ok((status, bytes)) => read_answer(status, &bytes),
                    Err(failure) => Err(failure),
                };
                match answer {
                    Ok(doc) => {
                        self.current.store(at, Ordering::Relaxed);
                        return Ok(doc);
                    }
                    Err(Failure::Down(reason)) => why.push(format!("{endpoint}: {reason}")),
                    Err(Failure::Refused(message)) => {
                        self.current.store(at, Ordering::Relaxed);
                        return Err(StoreError::Refused(format!("{path}: {message}")));
                    }
                    Err(Failure::Malformed(message)) => {
                        return Err(StoreError::Malformed(format!("{endpoint}{path}: {message}")));
                    }
                }
            }
        }
        let why = if why.is_empty() { "no endpoints are configured".to_string() } else { why.join("; ") };
        Err(StoreError::Unreachable(format!("no store endpoint answered ({why}): is the store up (`pgs ha status`)?")))
    }

    /// One exchange with one endpoint, within the timeout: the status and the body.
    async fn send(
        &self,
        endpoint: &str,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> std::result::Result<(StatusCode, Bytes), Failure> {
        let request = Request::builder()
            .method(method)
            .uri(format!("{endpoint}{path}"))
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body.map(Value::to_string).unwrap_or_default())))
            .map_err(|e| Failure::Down(format!("not a usable address: {e}")))?;
        let exchange = async {
            let response = self.client.request(request).await.map_err(|e| Failure::Down(causes(&e)))?;
            let status = response.status();
            match Limited::new(response.into_body(), MAX_ANSWER).collect().await {
                Ok(body) => Ok((status, body.to_bytes())),
                Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
                    Err(Failure::Malformed(format!("an answer longer than {} MiB", MAX_ANSWER >> 20)))
                }
                Err(e) => Err(Failure::Down(format!("reading the answer: {}", causes(&*e)))),
            }
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(Failure::Down(format!("no answer within {:?}", self.timeout))),
        }
    }
}

/// An error and its sources, joined by ": ".
fn causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

/// The first JSON value of a body (a gRPC stream's answer may hold several, one per line).
fn first_json(bytes: &[u8]) -> Option<Value> {
    serde_json::Deserializer::from_slice(bytes).into_iter::<Value>().next()?.ok()
}

/// The start of a text, for error messages.
fn snippet(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(200) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// The JSON document of an answer, or why it is not one to use.
fn read_answer(status: StatusCode, bytes: &[u8]) -> std::result::Result<Value, Failure> {
    let Some(doc) = first_json(bytes) else {
        let text = String::from_utf8_lossy(bytes);
        return Err(Failure::Malformed(format!("HTTP {status}, not JSON: {:?}", snippet(&text))));
    };
    // A unary call's error is {"error": "text", "code": 5}; a stream's is
    // {"error": {"grpc_code": 5, "message": "text", …}}. An empty "error" is none.
    let error = match doc.get("error") {
        Some(Value::String(text)) if !text.is_empty() => Some((text.clone(), doc.get("code"))),
        Some(e @ Value::Object(_)) => {
            let text = e.get("message").and_then(Value::as_str).unwrap_or("no message").to_string();
            Some((text, e.get("grpc_code").or_else(|| e.get("code"))))
        }
        _ => None,
    };
    if let Some((text, code)) = error {
        let code = code.and_then(|c| c.as_i64().or_else(|| c.as_str().and_then(|s| s.parse().ok())));
        let message = match code {
            Some(code) => format!("{text} (code {code})"),
            None => text.clone(),
        };
        return Err(if code == Some(UNAVAILABLE) || TRANSIENT.iter().any(|t| text.contains(t)) {
            Failure::Down(message)
        } else {
            Failure::Refused(message)
        });
    }
    if !status.is_success() {
        return Err(Failure::Malformed(format!("HTTP {status}: {}", snippet(&doc.to_string()))));
    }
    if !doc.is_object() {
        return Err(Failure::Malformed(format!("not a JSON object: {}", snippet(&doc.to_string()))));
    }
    Ok(doc)
}

/// Base64 of a key or value, as the gateway takes them.
fn b64(text: &str) -> String {
    BASE64.encode(text)
}

/// The end of the range of keys that start with `prefix`: the prefix with its last byte below
/// 0xff raised by one ("\0", the end of the key space, if there is none).
fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0]
}

/// A put, as a body of /v3/kv/put and inside a transaction.
fn put_request(key: &str, value: &str, lease: Option<i64>) -> Value {
    let mut put = json!({ "key": b64(key), "value": b64(value) });
    if let Some(lease) = lease {
        put["lease"] = json!(lease.to_string());
    }
    put
}

/// The operations of a transaction that puts `key` (with `lease`) and the keys of `also`.
fn puts(key: &str, value: &str, lease: Option<i64>, also: &[(&str, &str)]) -> Vec<Value> {
    std::iter::once(put_request(key, value, lease))
        .chain(also.iter().map(|(k, v)| put_request(k, v, None)))
        .map(|put| json!({ "request_put": put }))
        .collect()
}

/// The comparison "the value of `key` is `expected`" (false for a key that does not exist).
fn value_is(key: &str, expected: &str) -> Value {
    json!({ "key": b64(key), "target": "VALUE", "result": "EQUAL", "value": b64(expected) })
}

/// A 64-bit number of `doc`: etcd writes them as strings, and omits zeros.
fn int(doc: &Value, field: &str) -> Result<i64> {
    match doc.get(field) {
        None | Some(Value::Null) => Some(0),
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) if s.is_empty() => Some(0),
        Some(Value::String(s)) => s.parse().ok(),
        Some(_) => None,
    }
    .ok_or_else(|| StoreError::Malformed(format!("{field} is not a 64-bit number: {}", doc[field])))
}

/// A boolean of `doc` (omitted when false).
fn flag(doc: &Value, field: &str) -> Result<bool> {
    match doc.get(field) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) if s == "true" || s == "false" => Ok(s == "true"),
        Some(other) => Err(StoreError::Malformed(format!("{field} is not true or false: {other}"))),
    }
}

/// A plain string of `doc` (omitted when empty).
fn string(doc: &Value, field: &str) -> Result<String> {
    match doc.get(field) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(StoreError::Malformed(format!("{field} is not a string: {other}"))),
    }
}

/// A base64 string of `doc` (a key or value), decoded (omitted when empty).
fn text(doc: &Value, field: &str) -> Result<String> {
    let encoded = string(doc, field)?;
    let bytes = BASE64
        .decode(&encoded)
        .map_err(|e| StoreError::Malformed(format!("{field} is not base64 ({e}): {encoded}")))?;
    String::from_utf8(bytes).map_err(|_| StoreError::Malformed(format!("{field} is not UTF-8 text: {encoded}")))
}

/// An array of `doc` (omitted when empty).
fn list<'a>(doc: &'a Value, field: &str) -> Result<&'a [Value]> {
    match doc.get(field) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(other) => Err(StoreError::Malformed(format!("{field} is not a list: {}", snippet(&other.to_string())))),
    }
}

/// An array of strings of `doc`, under the first of `names` that is there.
fn strings(doc: &Value, names: &[&str]) -> Result<Vec<String>> {
    let field = names.iter().find(|n| doc.get(**n).is_some()).unwrap_or(&names[0]);
    list(doc, field)?
        .iter()
        .map(|v| v.as_str().map(str::to_string).ok_or_else(|| StoreError::Malformed(format!("{field} holds {v}"))))
        .collect()
}

/// The keys of a range answer.
fn kvs(doc: &Value) -> Result<Vec<Kv>> {
    list(doc, "kvs")?
        .iter()
        .map(|kv| {
            Ok(Kv {
                key: text(kv, "key")?,
                value: text(kv, "value")?,
                mod_revision: int(kv, "mod_revision")?,
                create_revision: int(kv, "create_revision")?,
                lease: int(kv, "lease")?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    //! Most tests run against a real etcd (Debian's `etcd-server`, which tests/run.sh
    //! installs), one per test on free loopback ports; the rest against a stub that answers
    //! what etcd never would.

    use std::process::{Child, Command, Stdio};
    use std::time::Instant;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// A single-member etcd in a temporary directory, killed on drop.
    struct Etcd {
        child: Child,
        endpoint: String,
        peer: String,
        dir: tempfile::TempDir,
    }

    impl Drop for Etcd {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    /// Loopback ports nothing listens on (now).
    fn free_ports<const N: usize>() -> [u16; N] {
        let listeners: Vec<_> = (0..N).map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap()).collect();
        std::array::from_fn(|i| listeners[i].local_addr().unwrap().port())
    }

    /// Starts etcd and waits (10 s at most) until it is healthy.
    async fn etcd() -> Etcd {
        let dir = tempfile::tempdir().unwrap();
        let [client, peer] = free_ports();
        let (endpoint, peer) = (format!("http://127.0.0.1:{client}"), format!("http://127.0.0.1:{peer}"));
        let log = std::fs::File::create(dir.path().join("etcd.log")).unwrap();
        let spawned = Command::new("etcd")
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .args(["--name", "default"])
            .args(["--listen-client-urls", &endpoint, "--advertise-client-urls", &endpoint])
            .args(["--listen-peer-urls", &peer, "--initial-advertise-peer-urls", &peer])
            .args(["--initial-cluster", &format!("default={peer}")])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
                "the `etcd` binary is missing: run tests/run.sh, which installs it (Debian's etcd-server package)"
            ),
            Err(e) => panic!("cannot start etcd: {e}"),
        };
        let mut etcd = Etcd { child, endpoint, peer, dir };
        let store = Store::new(vec![etcd.endpoint.clone()], Duration::from_secs(1));
        let deadline = Instant::now() + Duration::from_secs(10);
        while !store.healthy().await {
            let exited = etcd.child.try_wait().unwrap();
            if exited.is_some() || Instant::now() > deadline {
                let log = std::fs::read_to_string(etcd.dir.path().join("etcd.log")).unwrap_or_default();
                panic!("etcd did not become healthy within 10 s (exit: {exited:?}); its log:\n{log}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        etcd
    }

    /// A store of the one member, with room for a slow disk.
    fn store(etcd: &Etcd) -> Store {
        Store::new(vec![etcd.endpoint.clone()], Duration::from_secs(5))
    }

    #[tokio::test]
    async fn puts_gets_lists_and_deletes() {
        let etcd = etcd().await;
        let store = store(&etcd);
        assert_eq!(store.get("/t/a").await.unwrap(), None);
        store.put("/t/a", "1", None).await.unwrap();
        store.put("/t/b", "zwei ü", None).await.unwrap();
        store.put("/t/c", "", None).await.unwrap();
        store.put("/u", "other", None).await.unwrap();

        let a = store.get("/t/a").await.unwrap().unwrap();
        assert_eq!((a.key.as_str(), a.value.as_str(), a.lease), ("/t/a", "1", 0));
        assert!(a.create_revision > 0 && a.mod_revision == a.create_revision, "{a:?}");
        // An empty value is omitted from etcd's JSON.
        assert_eq!(store.get("/t/c").await.unwrap().unwrap().value, "");

        store.put("/t/a", "2", None).await.unwrap();
        let a2 = store.get("/t/a").await.unwrap().unwrap();
        assert_eq!(a2.value, "2");
        assert_eq!(a2.create_revision, a.create_revision);
        assert!(a2.mod_revision > a.mod_revision);

        let listed = store.get_prefix("/t/").await.unwrap();
        let pairs: Vec<(&str, &str)> = listed.iter().map(|kv| (kv.key.as_str(), kv.value.as_str())).collect();
        assert_eq!(pairs, [("/t/a", "2"), ("/t/b", "zwei ü"), ("/t/c", "")]);
        assert_eq!(store.get_prefix("").await.unwrap().len(), 4);
        assert!(store.get_prefix("/nothing/").await.unwrap().is_empty());

        store.delete("/t/a").await.unwrap();
        store.delete("/t/a").await.unwrap();
        assert_eq!(store.get("/t/a").await.unwrap(), None);
        assert_eq!(store.get_prefix("/t/").await.unwrap().len(), 2);
        assert!(store.healthy().await);
    }

    #[tokio::test]
    async fn creates_once_and_swaps_only_the_expected_value() {
        let etcd = etcd().await;
        let store = store(&etcd);
        assert!(store.create("/leader", "n1", None, &[("/epoch", "1"), ("/history/1", "n1")]).await.unwrap());
        assert_eq!(store.get("/epoch").await.unwrap().unwrap().value, "1");
        assert_eq!(store.get("/history/1").await.unwrap().unwrap().value, "n1");
        // The second create changes nothing, not even the keys of `also`.
        assert!(!store.create("/leader", "n2", None, &[("/epoch", "2")]).await.unwrap());
        assert_eq!(store.get("/leader").await.unwrap().unwrap().value, "n1");
        assert_eq!(store.get("/epoch").await.unwrap().unwrap().value, "1");

        assert!(!store.swap("/leader", "n3", "n2", None, &[("/epoch", "2")]).await.unwrap());
        assert_eq!(store.get("/leader").await.unwrap().unwrap().value, "n1");
        assert_eq!(store.get("/epoch").await.unwrap().unwrap().value, "1");
        assert!(store.swap("/leader", "n1", "n2", None, &[("/epoch", "2")]).await.unwrap());
        assert_eq!(store.get("/leader").await.unwrap().unwrap().value, "n2");
        assert_eq!(store.get("/epoch").await.unwrap().unwrap().value, "2");
        // A key that does not exist has no value, not even the empty one.
        assert!(!store.swap("/missing", "", "x", None, &[]).await.unwrap());
        assert_eq!(store.get("/missing").await.unwrap(), None);

        assert!(!store.delete_if("/leader", "n1").await.unwrap());
        assert!(store.get("/leader").await.unwrap().is_some());
        assert!(store.delete_if("/leader", "n2").await.unwrap());
        assert_eq!(store.get("/leader").await.unwrap(), None);
        assert!(!store.delete_if("/leader", "n2").await.unwrap());
        // Gone, it can be created again.
        assert!(store.create("/leader", "n3", None, &[]).await.unwrap());
    }

    #[tokio::test]
    async fn keys_go_with_their_lease() {
        let etcd = etcd().await;
        let store = store(&etcd);
        let lease = store.grant(30).await.unwrap();
        assert!(lease > 0);
        store.put("/l/a", "x", Some(lease)).await.unwrap();
        assert!(store.create("/l/b", "y", Some(lease), &[("/l/kept", "z")]).await.unwrap());
        assert_eq!(store.get("/l/a").await.unwrap().unwrap().lease, lease);
        assert_eq!(store.get("/l/kept").await.unwrap().unwrap().lease, 0);
        let ttl = store.keep_alive(lease).await.unwrap();
        assert!(ttl > 0 && ttl <= 30, "{ttl}");

        store.revoke(lease).await.unwrap();
        assert_eq!(store.get("/l/a").await.unwrap(), None);
        assert_eq!(store.get("/l/b").await.unwrap(), None);
        assert!(store.get("/l/kept").await.unwrap().is_some());
        assert_eq!(store.keep_alive(lease).await.unwrap(), 0);
        store.revoke(lease).await.unwrap();
        assert!(matches!(store.put("/l/a", "x", Some(lease)).await, Err(StoreError::Refused(_))));
        assert!(matches!(store.swap("/l/kept", "z", "w", Some(lease), &[]).await, Err(StoreError::Refused(_))));

        // A short lease runs out by itself.
        let short = store.grant(1).await.unwrap();
        store.put("/l/short", "x", Some(short)).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(8);
        while store.get("/l/short").await.unwrap().is_some() {
            assert!(Instant::now() < deadline, "a 1 s lease outlived 8 s");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert_eq!(store.keep_alive(short).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn fails_over_past_closed_ports_and_says_when_none_answer() {
        let etcd = etcd().await;
        let [port, port2] = free_ports();
        let (closed, closed2) = (format!("http://127.0.0.1:{port}"), format!("http://127.0.0.1:{port2}"));
        let store = Store::new(vec![closed.clone(), etcd.endpoint.clone()], Duration::from_secs(1));
        store.put("/f", "1", None).await.unwrap();
        assert_eq!(store.get("/f").await.unwrap().unwrap().value, "1");
        assert!(store.healthy().await);
        assert_eq!(store.endpoints(), [closed.clone(), etcd.endpoint.clone()]);

        // An endpoint that takes connections but never answers costs one timeout, once: the
        // store then starts from the endpoint that answered.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let silent = format!("http://{}", listener.local_addr().unwrap());
        let store = Store::new(vec![silent.clone(), etcd.endpoint.clone()], Duration::from_millis(500));
        let started = Instant::now();
        assert_eq!(store.get("/f").await.unwrap().unwrap().value, "1");
        assert!(started.elapsed() >= Duration::from_millis(500), "{:?}", started.elapsed());
        let started = Instant::now();
        assert_eq!(store.get("/f").await.unwrap().unwrap().value, "1");
        assert!(started.elapsed() < Duration::from_millis(500), "{:?}", started.elapsed());

        let dead = Store::new(vec![closed.clone(), format!("127.0.0.1:{port2}/")], Duration::from_secs(1));
        assert_eq!(dead.endpoints(), [closed.clone(), closed2.clone()]);
        let started = Instant::now();
        let error = dead.get("/f").await.unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
        let StoreError::Unreachable(message) = &error else { panic!("{error:?}") };
        assert!(message.contains(&closed) && message.contains(&closed2), "{message}");
        assert!(message.contains("is the store up (`pgs ha status`)?"), "{message}");
        assert!(!dead.healthy().await);
        assert!(matches!(Store::new(vec![], Duration::from_secs(1)).get("/f").await, Err(StoreError::Unreachable(_))));
    }

    #[tokio::test]
    async fn lists_the_members() {
        let etcd = etcd().await;
        let members = store(&etcd).members().await.unwrap();
        assert_eq!(
            members,
            [Member {
                name: "default".into(),
                peer_urls: vec![etcd.peer.clone()],
                client_urls: vec![etcd.endpoint.clone()]
            }]
        );
    }

    /// A server that answers every request with `status` and `body`; its URL.
    async fn stub(status: u16, body: Vec<u8>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let body = body.clone();
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut chunk = [0u8; 4096];
                    // Headers, then however much body the request has (small ones come along).
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let head =
                        format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
                    let _ = sock.write_all(head.as_bytes()).await;
                    let _ = sock.write_all(&body).await;
                });
            }
        });
        url
    }

    #[tokio::test]
    async fn answers_that_are_not_etcd_are_errors() {
        let timeout = Duration::from_secs(1);
        let not_json = Store::new(vec![stub(404, b"Not Found".to_vec()).await], timeout);
        assert!(matches!(not_json.get("/k").await, Err(StoreError::Malformed(m)) if m.contains("Not Found")));
        assert!(!not_json.healthy().await);

        let huge = Store::new(vec![stub(200, vec![b' '; MAX_ANSWER + 1]).await], timeout);
        assert!(matches!(huge.get("/k").await, Err(StoreError::Malformed(m)) if m.contains("longer than")));

        let wrong = br#"{"kvs":[{"key":"aw==","value":"not base64!","mod_revision":"7"}]}"#.to_vec();
        let wrong = Store::new(vec![stub(200, wrong).await], timeout);
        assert!(matches!(wrong.get("/k").await, Err(StoreError::Malformed(_))));
        let wrong = br#"{"kvs":[{"key":"aw==","mod_revision":"seven"}]}"#.to_vec();
        let wrong = Store::new(vec![stub(200, wrong).await], timeout);
        assert!(matches!(wrong.get("/k").await, Err(StoreError::Malformed(_))));
        let wrong = Store::new(vec![stub(200, b"[1, 2]".to_vec()).await], timeout);
        assert!(matches!(wrong.members().await, Err(StoreError::Malformed(_))));
        let wrong = Store::new(vec![stub(200, br#"{"succeeded": 1}"#.to_vec()).await], timeout);
        assert!(matches!(wrong.create("/k", "v", None, &[]).await, Err(StoreError::Malformed(_))));

        // Numbers as numbers are fine too.
        let numbers = br#"{"kvs":[{"key":"aw==","value":"dg==","mod_revision":7,"create_revision":"3","lease":9}]}"#;
        let numbers = Store::new(vec![stub(200, numbers.to_vec()).await], timeout);
        let kv = Kv { key: "k".into(), value: "v".into(), mod_revision: 7, create_revision: 3, lease: 9 };
        assert_eq!(numbers.get("/k").await.unwrap(), Some(kv));

        let refused = br#"{"error":"etcdserver: mvcc: required revision has been compacted","code":11}"#;
        let refused = Store::new(vec![stub(400, refused.to_vec()).await], timeout);
        assert!(matches!(refused.get("/k").await, Err(StoreError::Refused(m)) if m.contains("compacted (code 11)")));

        // No leader: the next endpoint is asked, then all once more, then it is unreachable.
        let no_leader = br#"{"error":"etcdserver: leader changed","message":"etcdserver: leader changed","code":14}"#;
        let no_leader = stub(503, no_leader.to_vec()).await;
        let stream_error = br#"{"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader"}}"#;
        let stream_error = stub(200, stream_error.to_vec()).await;
        let store = Store::new(vec![no_leader, stream_error], timeout);
        let started = Instant::now();
        let error = store.keep_alive(1).await.unwrap_err();
        assert!(started.elapsed() >= RETRY_AFTER, "no second round");
        let StoreError::Unreachable(message) = &error else { panic!("{error:?}") };
        assert!(message.contains("leader changed") && message.contains("no leader"), "{message}");
    }

    #[test]
    fn a_prefix_ends_past_its_last_byte() {
        assert_eq!(prefix_end(b"/a/"), b"/a0");
        assert_eq!(prefix_end(b"a\xff"), b"b");
        assert_eq!(prefix_end(b"\xff\xff"), b"\0");
        assert_eq!(prefix_end(b""), b"\0");
    }
}
