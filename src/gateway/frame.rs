//! The packets a client sends before the session starts, and their bounds.
//!
//! Before startup every packet is `int32 length` (itself included) then `int32 code`, then a
//! body. Lengths are checked before anything is allocated.

use tokio::io::{AsyncRead, AsyncReadExt};

use super::errors::Refusal;

/// PostgreSQL's own limit for a startup packet.
pub const MAX_STARTUP_LEN: usize = 10_000;
/// SSLRequest code.
pub const SSL_REQUEST: u32 = 80_877_103;
/// GSSENCRequest code.
pub const GSSENC_REQUEST: u32 = 80_877_104;
/// CancelRequest code.
pub const CANCEL_REQUEST: u32 = 80_877_102;
/// Protocol 3.0.
pub const PROTOCOL_3_0: u32 = 196_608;
/// Protocol 3.2 (PostgreSQL 18).
pub const PROTOCOL_3_2: u32 = 196_610;
/// pgs's own code (no PostgreSQL client sends it): another gateway of the installation relays
/// a client and says who it is (see [`super::peer`]).
pub const PEER_HELLO: u32 = (1234 << 16) | 5699;
/// Longest cancel secret (protocol 3.2).
pub const MAX_CANCEL_SECRET: usize = 256;

/// A first packet, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FirstPacket {
    /// Client asks for TLS.
    SslRequest,
    /// Client asks for GSSAPI encryption.
    GssEncRequest,
    /// Cancel a query: backend process id and secret key.
    Cancel {
        /// Process id from BackendKeyData.
        pid: u32,
        /// Secret key (4 bytes in 3.0, up to 256 in 3.2).
        secret: Vec<u8>,
    },
    /// A startup message.
    Startup(Startup),
    /// Another gateway relays a client (inside TLS only; the startup follows).
    PeerHello {
        /// The installation's peer key, as the relaying gateway knows it.
        key: Vec<u8>,
        /// The client's address, as the relaying gateway saw it.
        client: String,
    },
}

/// A startup message: protocol version and parameters in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Startup {
    /// Protocol version code (major << 16 | minor).
    pub version: u32,
    /// Key/value pairs in the order sent.
    pub params: Vec<(String, String)>,
}

impl Startup {
    /// The value of parameter `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// Sets (or adds) parameter `key`.
    pub fn set(&mut self, key: &str, value: String) {
        match self.params.iter_mut().find(|(k, _)| k == key) {
            Some((_, v)) => *v = value,
            None => self.params.push((key.to_string(), value)),
        }
    }

    /// Removes parameter `key`.
    pub fn remove(&mut self, key: &str) {
        self.params.retain(|(k, _)| k != key);
    }

    /// Encodes the message for the backend.
    pub fn encode(&self) -> Vec<u8> {
        let mut body = Vec::with_capacity(256);
        body.extend(self.version.to_be_bytes());
        for (k, v) in &self.params {
            body.extend(k.as_bytes());
            body.push(0);
            body.extend(v.as_bytes());
            body.push(0);
        }
        body.push(0);
        let mut msg = ((body.len() + 4) as u32).to_be_bytes().to_vec();
        msg.extend(body);
        msg
    }
}

/// The packet a relaying gateway sends before the client's startup ([`FirstPacket::PeerHello`]).
pub fn peer_hello(key: &[u8], client: &str) -> Vec<u8> {
    let mut msg = Vec::with_capacity(key.len() + client.len() + 10);
    msg.extend(((key.len() + client.len() + 10) as u32).to_be_bytes());
    msg.extend(PEER_HELLO.to_be_bytes());
    for part in [key, client.as_bytes()] {
        msg.extend(part);
        msg.push(0);
    }
    msg
}

fn violation(what: &str) -> Refusal {
    Refusal::Protocol(what.to_string())
}

/// Decodes a first packet from its body (everything after the length word).
pub fn parse_first(body: &[u8]) -> Result<FirstPacket, Refusal> {
    if body.len() < 4 {
        return Err(violation("packet too short"));
    }
    let code = u32::from_be_bytes([body[0], body[1], body[2], body[3]]);
    let rest = &body[4..];
    match code {
        SSL_REQUEST | GSSENC_REQUEST if !rest.is_empty() => Err(violation("invalid length of encryption request")),
        SSL_REQUEST => Ok(FirstPacket::SslRequest),
        GSSENC_REQUEST => Ok(FirstPacket::GssEncRequest),
        CANCEL_REQUEST => {
            if rest.len() < 8 || rest.len() > 4 + MAX_CANCEL_SECRET {
                return Err(violation("invalid length of cancel request"));
            }
            let pid = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]);
            Ok(FirstPacket::Cancel { pid, secret: rest[4..].to_vec() })
        }
        PEER_HELLO => {
            let mut parts = rest.splitn(3, |&b| b == 0);
            match (parts.next(), parts.next(), parts.next()) {
                (Some(key), Some(client), Some([])) => Ok(FirstPacket::PeerHello {
                    key: key.to_vec(),
                    client: String::from_utf8_lossy(client).into_owned(),
                }),
                _ => Err(violation("malformed peer hello")),
            }
        }
        PROTOCOL_3_0 | PROTOCOL_3_2 => {
            parse_params(rest).map(|params| FirstPacket::Startup(Startup { version: code, params }))
        }
        v if v >> 16 == 3 => {
            // A newer 3.x minor: answer as 3.2 would (the backend negotiates the version down).
            parse_params(rest).map(|params| FirstPacket::Startup(Startup { version: v, params }))
        }
        v => Err(Refusal::Protocol(format!("unsupported protocol version {}.{}", v >> 16, v & 0xffff))),
    }
}

fn parse_params(mut rest: &[u8]) -> Result<Vec<(String, String)>, Refusal> {
    let mut params = Vec::new();
    let cstr = |rest: &mut &[u8]| -> Result<String, Refusal> {
        let end = rest.iter().position(|&b| b == 0).ok_or_else(|| violation("unterminated startup parameter"))?;
        let s = std::str::from_utf8(&rest[..end]).map_err(|_| violation("startup parameter is not UTF-8"))?.to_string();
        *rest = &rest[end + 1..];
        Ok(s)
    };
    loop {
        if rest == [0] {
            break;
        }
        if rest.is_empty() {
            return Err(violation("startup message not terminated"));
        }
        let key = cstr(&mut rest)?;
        let value = cstr(&mut rest)?;
        if params.iter().any(|(k, _)| *k == key) {
            return Err(Refusal::Protocol(format!("duplicate startup parameter {key}")));
        }
        params.push((key, value));
    }
    if !params.iter().any(|(k, _)| k == "user") {
        return Err(violation("no user name in the startup message"));
    }
    Ok(params)
}

/// Reads one length-prefixed pre-startup packet and returns its body. At most
/// [`MAX_STARTUP_LEN`] bytes are ever allocated.
pub async fn read_packet<R: AsyncRead + Unpin>(r: &mut R) -> Result<Vec<u8>, Refusal> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len).await.map_err(|_| violation("connection closed during startup"))?;
    let len = u32::from_be_bytes(len) as usize;
    if !(8..=MAX_STARTUP_LEN).contains(&len) {
        return Err(Refusal::Protocol(format!("invalid startup packet length {len}")));
    }
    let mut body = vec![0u8; len - 4];
    r.read_exact(&mut body).await.map_err(|_| violation("connection closed during startup"))?;
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn startup_bytes(version: u32, params: &[(&str, &str)]) -> Vec<u8> {
        Startup { version, params: params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect() }.encode()
    }

    #[test]
    fn decodes_every_first_packet() {
        assert_eq!(parse_first(&SSL_REQUEST.to_be_bytes()), Ok(FirstPacket::SslRequest));
        assert_eq!(parse_first(&GSSENC_REQUEST.to_be_bytes()), Ok(FirstPacket::GssEncRequest));
        let mut cancel = CANCEL_REQUEST.to_be_bytes().to_vec();
        cancel.extend(7u32.to_be_bytes());
        cancel.extend([1, 2, 3, 4]);
        assert_eq!(parse_first(&cancel), Ok(FirstPacket::Cancel { pid: 7, secret: vec![1, 2, 3, 4] }));
        // 3.2 keys can be longer.
        let mut long = CANCEL_REQUEST.to_be_bytes().to_vec();
        long.extend(7u32.to_be_bytes());
        long.extend([9u8; 32]);
        assert!(matches!(parse_first(&long), Ok(FirstPacket::Cancel { secret, .. }) if secret.len() == 32));
        for v in [PROTOCOL_3_0, PROTOCOL_3_2] {
            let bytes = startup_bytes(v, &[("user", "alice"), ("database", "db")]);
            let FirstPacket::Startup(s) = parse_first(&bytes[4..]).unwrap() else { panic!() };
            assert_eq!(s.version, v);
            assert_eq!(s.get("user"), Some("alice"));
            assert_eq!(s.encode(), bytes, "encode is the inverse of parse");
        }
        let hello = peer_hello(b"k3y", "10.0.0.9:40000");
        assert_eq!(u32::from_be_bytes(hello[..4].try_into().unwrap()) as usize, hello.len());
        assert_eq!(
            parse_first(&hello[4..]),
            Ok(FirstPacket::PeerHello { key: b"k3y".to_vec(), client: "10.0.0.9:40000".into() })
        );
        // Anything after the address, or a missing terminator, is refused.
        assert!(parse_first(&[&hello[4..], b"x\0"].concat()).is_err());
        assert!(parse_first(&hello[4..hello.len() - 1]).is_err());
    }

    #[test]
    fn refuses_malformed_packets() {
        assert!(parse_first(&[]).is_err());
        assert!(parse_first(&[0, 0]).is_err());
        assert!(parse_first(&1234u32.to_be_bytes()).is_err());
        let no_user = startup_bytes(PROTOCOL_3_0, &[("database", "x")]);
        assert!(parse_first(&no_user[4..]).is_err());
        let mut unterminated = startup_bytes(PROTOCOL_3_0, &[("user", "x")]);
        unterminated.pop();
        assert!(parse_first(&unterminated[4..]).is_err());
        let dup = startup_bytes(PROTOCOL_3_0, &[("user", "x"), ("user", "y")]);
        assert!(parse_first(&dup[4..]).is_err());
    }

    #[tokio::test]
    async fn read_packet_bounds_lengths() {
        let mut huge: &[u8] = &[0, 1, 0, 0, 0, 0, 0, 0];
        assert!(read_packet(&mut huge).await.is_err());
        let mut tiny: &[u8] = &[0, 0, 0, 4];
        assert!(read_packet(&mut tiny).await.is_err());
        let mut ok: &[u8] = &[0, 0, 0, 8, 4, 210, 22, 47];
        assert_eq!(read_packet(&mut ok).await.unwrap(), SSL_REQUEST.to_be_bytes());
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]

        /// Any bytes: the parser answers (Ok or a refusal) and never panics.
        #[test]
        fn parse_first_never_panics(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_first(&body);
        }

        /// Startup messages built from arbitrary parameters round-trip.
        #[test]
        fn startup_round_trips(params in proptest::collection::btree_map("[a-z_]{1,12}", "[^\u{0}]{0,40}", 0..8), user in "[a-z]{1,10}") {
            let mut params: Vec<(String, String)> = params.into_iter().filter(|(k, _)| k != "user").collect();
            params.insert(0, ("user".to_string(), user));
            let s = Startup { version: PROTOCOL_3_0, params };
            let bytes = s.encode();
            prop_assert_eq!(parse_first(&bytes[4..]), Ok(FirstPacket::Startup(s)));
        }

        /// Any length word: `read_packet` never allocates past the bound.
        #[test]
        fn read_packet_is_bounded(len in any::<u32>(), rest in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut input = len.to_be_bytes().to_vec();
            input.extend(rest);
            let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
            if let Ok(body) = rt.block_on(read_packet(&mut input.as_slice())) {
                prop_assert!(body.len() + 4 <= MAX_STARTUP_LEN);
            }
        }
    }
}
