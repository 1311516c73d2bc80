//! DNS messages sent straight to one name server (no cache in between): TXT lookups for
//! propagation checks, the zone a name belongs to, and the exchange that dynamic updates use.

use std::net::SocketAddr;
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};

use crate::certs::{CertError, Result};

/// How long one name server may take to answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(3);
/// Largest reply read (UDP without EDNS is 512 bytes; TSIG and long TXT sets fit in this).
const MAX_REPLY: usize = 4096;

/// Sends `request` (whose id is `id`) over UDP and returns the raw reply with the same id.
pub async fn exchange(server: SocketAddr, request: &[u8], id: u16) -> Result<Vec<u8>> {
    let bind: SocketAddr = if server.is_ipv4() { ([0, 0, 0, 0], 0).into() } else { ([0u16; 8], 0).into() };
    let socket = tokio::net::UdpSocket::bind(bind).await.map_err(CertError::DnsSocket)?;
    socket.connect(server).await.map_err(|source| CertError::DnsUnreachable { server, source })?;
    socket.send(request).await.map_err(|source| CertError::DnsSend { server, source })?;
    let mut buf = vec![0u8; MAX_REPLY];
    // One deadline for the whole exchange: stray datagrams do not extend it.
    let deadline = tokio::time::Instant::now() + ANSWER_TIMEOUT;
    loop {
        let n = tokio::time::timeout_at(deadline, socket.recv(&mut buf))
            .await
            .map_err(|source| CertError::TimeoutNameServer { server, secs: ANSWER_TIMEOUT.as_secs(), source })?
            .map_err(|source| CertError::DnsReceive { server, source })?;
        // Ignore stray datagrams; a reply too short to carry an id is one of them.
        if n >= 2 && u16::from_be_bytes([buf[0], buf[1]]) == id {
            buf.truncate(n);
            return Ok(buf);
        }
    }
}

/// Asks `server` for `rtype` records of `fqdn` and returns its reply (NOERROR or NXDOMAIN).
async fn ask(server: SocketAddr, fqdn: &str, rtype: RecordType) -> Result<Message> {
    let name = Name::from_ascii(fqdn).map_err(|source| CertError::InvalidName {
        what: "DNS name",
        name: fqdn.to_string(),
        source,
    })?;
    let id: u16 = rand::random();
    let mut msg = Message::new();
    msg.set_id(id)
        .set_message_type(MessageType::Query)
        .set_op_code(OpCode::Query)
        .set_recursion_desired(true)
        .add_query(Query::query(name, rtype));
    let request = msg.to_vec().map_err(CertError::DnsMessage)?;
    let reply = Message::from_vec(&exchange(server, &request, id).await?)
        .map_err(|source| CertError::DnsUnreadable { server, source })?;
    match reply.response_code() {
        ResponseCode::NoError | ResponseCode::NXDomain => Ok(reply),
        code => Err(CertError::DnsAnswer { server, code, fqdn: fqdn.to_string(), rtype }),
    }
}

/// The TXT values `server` answers for `fqdn` (empty for NXDOMAIN / no data).
pub async fn txt(server: SocketAddr, fqdn: &str) -> Result<Vec<String>> {
    let reply = ask(server, fqdn, RecordType::TXT).await?;
    Ok(reply
        .answers()
        .iter()
        .filter_map(|r| match r.data() {
            RData::TXT(txt) => Some(txt.txt_data().iter().map(|d| String::from_utf8_lossy(d)).collect::<String>()),
            _ => None,
        })
        .collect())
}

/// The zone that `fqdn` belongs to, according to `server`: the owner of the SOA record in the
/// answer (when `fqdn` is a zone apex) or in the authority section (any name below it).
pub async fn zone_of(server: SocketAddr, fqdn: &str) -> Result<Name> {
    let reply = ask(server, fqdn, RecordType::SOA).await?;
    reply
        .answers()
        .iter()
        .chain(reply.name_servers())
        .find(|r| r.record_type() == RecordType::SOA)
        .map(|r| r.name().clone())
        .ok_or_else(|| CertError::DnsNoZone { server, fqdn: fqdn.to_string() })
}

/// The names (NS) or addresses (A) `server` answers for `fqdn`, as text.
pub async fn names(server: SocketAddr, fqdn: &str, rtype: RecordType) -> Result<Vec<String>> {
    let reply = ask(server, fqdn, rtype).await?;
    Ok(reply
        .answers()
        .iter()
        .filter_map(|r| match r.data() {
            RData::NS(ns) => Some(ns.0.to_ascii()),
            RData::A(a) => Some(a.0.to_string()),
            _ => None,
        })
        .collect())
}
