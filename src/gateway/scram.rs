//! SCRAM-SHA-256 (RFC 5802, RFC 7677, as PostgreSQL speaks it) on both sides of the pooler.
//!
//! - As the **server**, the gateway authenticates a pooled client against the role's verifier
//!   (`SCRAM-SHA-256$ITER:SALT$STOREDKEY:SERVERKEY`, what `pg_authid` holds), offering channel
//!   binding `tls-server-end-point` (SCRAM-SHA-256-PLUS). A successful exchange also yields the
//!   client's *ClientKey* (the proof XOR the client signature), which proves nothing to anyone
//!   but lets the gateway answer the same verifier's challenge again.
//! - As the **client** of the tenant's PostgreSQL, the gateway logs its server connections in
//!   with that ClientKey ([`ClientKeyLogin`]): the password never reaches the gateway, and a
//!   server connection logs in as any role that a client has authenticated as (what pgbouncer
//!   calls SCRAM pass-through).
//!
//! Every input is peer input: malformed messages are errors, never panics.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ring::{digest, hmac, rand::SecureRandom};

/// Mechanism name without channel binding.
pub const SCRAM_SHA_256: &str = "SCRAM-SHA-256";
/// Mechanism name with channel binding.
pub const SCRAM_SHA_256_PLUS: &str = "SCRAM-SHA-256-PLUS";
/// The one channel binding type PostgreSQL knows.
const CBIND_TYPE: &str = "tls-server-end-point";
/// Longest SCRAM message accepted from a peer.
pub const MAX_MESSAGE: usize = 1024;

/// Why an exchange failed. Clients only ever learn "password authentication failed" (28P01),
/// or for a malformed message "invalid SCRAM message" (08P01).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScramError {
    /// The message is not what SCRAM allows at this step.
    #[error("invalid SCRAM message: {0}")]
    Malformed(&'static str),
    /// Channel binding does not match what was negotiated.
    #[error("SCRAM channel binding check failed")]
    ChannelBinding,
    /// The proof is wrong: wrong password.
    #[error("wrong password")]
    WrongProof,
    /// The server's signature is wrong (as the client): not the server the verifier belongs to.
    #[error("the server's SCRAM signature does not match")]
    ServerSignature,
}

/// A role's SCRAM verifier.
#[derive(Clone, PartialEq, Eq)]
pub struct Verifier {
    iterations: u32,
    salt: Vec<u8>,
    stored_key: [u8; 32],
    server_key: [u8; 32],
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Verifier(..)")
    }
}

impl Verifier {
    /// Parses `SCRAM-SHA-256$ITERATIONS:SALT$STOREDKEY:SERVERKEY`; `None` for anything else (an
    /// MD5 hash, a plain text password, no password).
    pub fn parse(s: &str) -> Option<Self> {
        let rest = s.strip_prefix("SCRAM-SHA-256$")?;
        let (params, keys) = rest.split_once('$')?;
        let (iterations, salt) = params.split_once(':')?;
        let (stored, server) = keys.split_once(':')?;
        let iterations: u32 = iterations.parse().ok().filter(|i| *i > 0)?;
        let salt = B64.decode(salt).ok()?;
        Some(Self {
            iterations,
            salt,
            stored_key: B64.decode(stored).ok()?.try_into().ok()?,
            server_key: B64.decode(server).ok()?.try_into().ok()?,
        })
    }

    /// The verifier of `password` with `salt` and `iterations` (tests, and roles whose password
    /// pgs knows).
    pub fn from_password(password: &str, salt: &[u8], iterations: u32) -> Self {
        let mut salted = [0u8; 32];
        ring::pbkdf2::derive(
            ring::pbkdf2::PBKDF2_HMAC_SHA256,
            std::num::NonZeroU32::new(iterations.max(1)).expect("max(1) is not zero"),
            salt,
            password.as_bytes(),
            &mut salted,
        );
        let client_key = mac(&salted, b"Client Key");
        Self {
            iterations,
            salt: salt.to_vec(),
            stored_key: sha256(&client_key),
            server_key: mac(&salted, b"Server Key"),
        }
    }
}

fn mac(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), msg);
    tag.as_ref().try_into().expect("HMAC-SHA-256 is 32 bytes")
}

fn sha256(data: &[u8]) -> [u8; 32] {
    digest::digest(&digest::SHA256, data).as_ref().try_into().expect("SHA-256 is 32 bytes")
}

fn xor(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    std::array::from_fn(|i| a[i] ^ b[i])
}

/// A fresh printable nonce of 24 random bytes.
fn nonce() -> String {
    let mut raw = [0u8; 24];
    ring::rand::SystemRandom::new().fill(&mut raw).expect("the system's random source works");
    B64.encode(raw)
}

/// The `r=`, `c=`, `p=` ... attributes of a message, in order.
fn attributes(msg: &str) -> impl Iterator<Item = (u8, &str)> {
    msg.split(',').map(|a| match a.as_bytes() {
        [k, b'=', ..] => (*k, &a[2..]),
        _ => (0, a),
    })
}

/// The server's side of one exchange, between the client's first and final message.
pub struct ServerExchange {
    verifier: Verifier,
    /// The client's nonce followed by ours.
    nonce: String,
    /// `c=` the client must send: base64 of its GS2 header and, with PLUS, the certificate hash.
    expected_binding: String,
    client_first_bare: String,
    server_first: String,
}

impl ServerExchange {
    /// Reads the client-first-message of mechanism `mechanism`; returns the exchange and the
    /// server-first-message. `cert_hash` is the `tls-server-end-point` hash of the gateway's
    /// certificate when the client connected over TLS (then PLUS was offered).
    pub fn start(
        mechanism: &str,
        client_first: &[u8],
        verifier: Verifier,
        cert_hash: Option<&[u8]>,
    ) -> Result<(Self, String), ScramError> {
        if client_first.len() > MAX_MESSAGE {
            return Err(ScramError::Malformed("message too long"));
        }
        let msg = std::str::from_utf8(client_first).map_err(|_| ScramError::Malformed("not UTF-8"))?;
        // gs2-header: cbind flag, authzid (unsupported, as in PostgreSQL), then the bare message.
        let mut parts = msg.splitn(3, ',');
        let (flag, authzid, bare) = match (parts.next(), parts.next(), parts.next()) {
            (Some(f), Some(a), Some(b)) => (f, a, b),
            _ => return Err(ScramError::Malformed("no GS2 header")),
        };
        if !authzid.is_empty() {
            return Err(ScramError::Malformed("authorization identity is not supported"));
        }
        let plus = mechanism == SCRAM_SHA_256_PLUS;
        if !plus && mechanism != SCRAM_SHA_256 {
            return Err(ScramError::Malformed("unknown mechanism"));
        }
        let binding = match flag {
            "n" if !plus => Vec::new(),
            // The client could bind but believes we cannot: over TLS we offered PLUS, so
            // someone removed it on the way.
            "y" if !plus && cert_hash.is_none() => Vec::new(),
            "y" if !plus => return Err(ScramError::ChannelBinding),
            f if plus && f.strip_prefix("p=") == Some(CBIND_TYPE) => {
                cert_hash.ok_or(ScramError::ChannelBinding)?.to_vec()
            }
            _ => return Err(ScramError::ChannelBinding),
        };
        let mut client_nonce = None;
        for (key, value) in attributes(bare) {
            match key {
                b'm' => return Err(ScramError::Malformed("extensions are not supported")),
                b'r' => client_nonce = Some(value),
                _ => {}
            }
        }
        let client_nonce =
            client_nonce.filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_graphic() && b != b','));
        let client_nonce = client_nonce.ok_or(ScramError::Malformed("no nonce"))?;
        let nonce = format!("{client_nonce}{}", nonce());
        let server_first = format!("r={nonce},s={},i={}", B64.encode(&verifier.salt), verifier.iterations);
        let mut header = format!("{flag},,").into_bytes();
        header.extend_from_slice(&binding);
        let exchange = Self {
            verifier,
            nonce,
            expected_binding: B64.encode(header),
            client_first_bare: bare.to_string(),
            server_first: server_first.clone(),
        };
        Ok((exchange, server_first))
    }

    /// Checks the client-final-message; returns the server-final-message and the client's
    /// ClientKey.
    pub fn finish(self, client_final: &[u8]) -> Result<(String, [u8; 32]), ScramError> {
        if client_final.len() > MAX_MESSAGE {
            return Err(ScramError::Malformed("message too long"));
        }
        let msg = std::str::from_utf8(client_final).map_err(|_| ScramError::Malformed("not UTF-8"))?;
        let (without_proof, proof) = msg.rsplit_once(",p=").ok_or(ScramError::Malformed("no proof"))?;
        let mut attrs = attributes(without_proof);
        let (Some((b'c', binding)), Some((b'r', nonce))) = (attrs.next(), attrs.next()) else {
            return Err(ScramError::Malformed("expected c= and r="));
        };
        if binding != self.expected_binding {
            return Err(ScramError::ChannelBinding);
        }
        if nonce != self.nonce {
            return Err(ScramError::Malformed("nonce mismatch"));
        }
        let proof: [u8; 32] =
            B64.decode(proof).ok().and_then(|p| p.try_into().ok()).ok_or(ScramError::Malformed("bad proof"))?;
        let auth_message = format!("{},{},{without_proof}", self.client_first_bare, self.server_first);
        let client_signature = mac(&self.verifier.stored_key, auth_message.as_bytes());
        let client_key = xor(&proof, &client_signature);
        if !super::cancel::constant_time_eq(&sha256(&client_key), &self.verifier.stored_key) {
            return Err(ScramError::WrongProof);
        }
        let server_signature = mac(&self.verifier.server_key, auth_message.as_bytes());
        Ok((format!("v={}", B64.encode(server_signature)), client_key))
    }
}

/// The client's side of one exchange, logging in with a ClientKey instead of a password (no
/// channel binding: the gateway reaches tenants over their Unix sockets).
pub struct ClientKeyLogin {
    client_key: [u8; 32],
    server_key: [u8; 32],
    client_first_bare: String,
    state: Option<(String, [u8; 32])>,
}

impl ClientKeyLogin {
    /// A login with `client_key` for `verifier`'s role: the client-first-message to send.
    pub fn new(client_key: [u8; 32], verifier: &Verifier) -> (Self, String) {
        let client_first_bare = format!("n=,r={}", nonce());
        let first = format!("n,,{client_first_bare}");
        (Self { client_key, server_key: verifier.server_key, client_first_bare, state: None }, first)
    }

    /// Answers the server-first-message with the client-final-message.
    pub fn update(&mut self, server_first: &[u8]) -> Result<String, ScramError> {
        let msg = std::str::from_utf8(server_first).map_err(|_| ScramError::Malformed("not UTF-8"))?;
        let mut attrs = attributes(msg);
        let (Some((b'r', nonce)), Some((b's', _)), Some((b'i', _))) = (attrs.next(), attrs.next(), attrs.next()) else {
            return Err(ScramError::Malformed("expected r=, s= and i="));
        };
        let ours = self.client_first_bare.strip_prefix("n=,r=").unwrap_or_default();
        if !nonce.starts_with(ours) || nonce.len() == ours.len() {
            return Err(ScramError::Malformed("nonce mismatch"));
        }
        let without_proof = format!("c=biws,r={nonce}");
        let auth_message = format!("{},{msg},{without_proof}", self.client_first_bare);
        let stored_key = sha256(&self.client_key);
        let proof = xor(&self.client_key, &mac(&stored_key, auth_message.as_bytes()));
        self.state = Some((auth_message, stored_key));
        Ok(format!("{without_proof},p={}", B64.encode(proof)))
    }

    /// Checks the server-final-message: the server holds the same verifier.
    pub fn finish(self, server_final: &[u8]) -> Result<(), ScramError> {
        let (auth_message, _) = self.state.ok_or(ScramError::Malformed("final message before the first"))?;
        let msg = std::str::from_utf8(server_final).map_err(|_| ScramError::Malformed("not UTF-8"))?;
        let signature = msg.strip_prefix("v=").and_then(|v| B64.decode(v).ok()).ok_or(ScramError::ServerSignature)?;
        let expected = mac(&self.server_key, auth_message.as_bytes());
        if super::cancel::constant_time_eq(&signature, &expected) { Ok(()) } else { Err(ScramError::ServerSignature) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use postgres_protocol::authentication::sasl::{ChannelBinding, ScramSha256};

    fn verifier(password: &str) -> Verifier {
        Verifier::parse(&postgres_protocol::password::scram_sha_256(password.as_bytes())).unwrap()
    }

    /// A whole exchange between postgres-protocol's client and our server.
    fn exchange(
        password: &str,
        actual: &str,
        binding: ChannelBinding,
        cert: Option<&[u8]>,
        mech: &str,
    ) -> Result<[u8; 32], ScramError> {
        exchange_with(password, verifier(actual), binding, cert, mech)
    }

    fn exchange_with(
        password: &str,
        v: Verifier,
        binding: ChannelBinding,
        cert: Option<&[u8]>,
        mech: &str,
    ) -> Result<[u8; 32], ScramError> {
        let mut client = ScramSha256::new(password.as_bytes(), binding);
        let (server, first) = ServerExchange::start(mech, client.message(), v, cert)?;
        client.update(first.as_bytes()).map_err(|_| ScramError::Malformed("client refused"))?;
        let (last, key) = server.finish(client.message())?;
        client.finish(last.as_bytes()).map_err(|_| ScramError::ServerSignature)?;
        Ok(key)
    }

    #[test]
    fn verifiers_parse_and_match_their_password() {
        let text = postgres_protocol::password::scram_sha_256(b"pw");
        let v = Verifier::parse(&text).unwrap();
        assert_eq!(Verifier::from_password("pw", &v.salt, v.iterations), v);
        for bad in [
            "md5abc",
            "",
            "SCRAM-SHA-256$0:AA==$AA==:AA==",
            "SCRAM-SHA-256$4096:!!$x:y",
            "SCRAM-SHA-256$4096:c2FsdA==$AA==:AA==",
        ] {
            assert!(Verifier::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn a_right_password_passes_and_a_wrong_one_fails() {
        assert!(exchange("pw", "pw", ChannelBinding::unsupported(), None, SCRAM_SHA_256).is_ok());
        assert_eq!(
            exchange("nope", "pw", ChannelBinding::unsupported(), None, SCRAM_SHA_256),
            Err(ScramError::WrongProof)
        );
    }

    #[test]
    fn channel_binding_is_checked() {
        let cert = [7u8; 32];
        let plus = || ChannelBinding::tls_server_end_point(cert.to_vec());
        assert!(exchange("pw", "pw", plus(), Some(&cert), SCRAM_SHA_256_PLUS).is_ok());
        // Another certificate (a man in the middle): refused.
        assert_eq!(exchange("pw", "pw", plus(), Some(&[8u8; 32]), SCRAM_SHA_256_PLUS), Err(ScramError::ChannelBinding));
        // A client that could bind, told PLUS was not offered over TLS: a downgrade.
        assert_eq!(
            exchange("pw", "pw", ChannelBinding::unrequested(), Some(&cert), SCRAM_SHA_256),
            Err(ScramError::ChannelBinding)
        );
        assert!(exchange("pw", "pw", ChannelBinding::unrequested(), None, SCRAM_SHA_256).is_ok());
        assert!(exchange("pw", "pw", ChannelBinding::unsupported(), Some(&cert), SCRAM_SHA_256).is_ok());
    }

    #[test]
    fn the_client_key_logs_in_where_the_password_would() {
        let v = verifier("pw");
        let key = exchange_with("pw", v.clone(), ChannelBinding::unsupported(), None, SCRAM_SHA_256).unwrap();
        // Our client against our server with the same verifier: as PostgreSQL would check it.
        let (mut login, first) = ClientKeyLogin::new(key, &v);
        let (server, server_first) = ServerExchange::start(SCRAM_SHA_256, first.as_bytes(), v.clone(), None).unwrap();
        let last = login.update(server_first.as_bytes()).unwrap();
        let (server_final, again) = server.finish(last.as_bytes()).unwrap();
        assert_eq!(again, key);
        login.finish(server_final.as_bytes()).unwrap();
        // A server with another verifier for the role (the password changed) is detected.
        let (mut login, first) = ClientKeyLogin::new(key, &v);
        let (server, server_first) =
            ServerExchange::start(SCRAM_SHA_256, first.as_bytes(), verifier("other"), None).unwrap();
        let last = login.update(server_first.as_bytes()).unwrap();
        assert_eq!(server.finish(last.as_bytes()).unwrap_err(), ScramError::WrongProof);
    }

    /// One verifier for every case (deriving one costs 4,096 PBKDF2 rounds).
    static PW: std::sync::LazyLock<Verifier> = std::sync::LazyLock::new(|| verifier("pw"));

    proptest::proptest! {
        #[test]
        fn any_bytes_are_an_error_not_a_panic(a in proptest::collection::vec(proptest::num::u8::ANY, 0..300),
                                              b in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            if let Ok((server, _)) = ServerExchange::start(SCRAM_SHA_256, &a, PW.clone(), None) {
                let _ = server.finish(&b);
            }
            let (mut login, _) = ClientKeyLogin::new([0; 32], &PW);
            let _ = login.update(&a);
            let _ = login.finish(&b);
        }
    }
}
