//! Who the client is: the connection's peer address, or, behind a trusted proxy, the address
//! that proxy put in `X-Forwarded-For`; and the key a client's bucket is filed under.

use std::net::{IpAddr, Ipv6Addr};

/// An IP network: an address and a prefix length (`10.0.0.0/8`, `2001:db8::/32`, or a single
/// address).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IpNet {
    /// The address as IPv6 bits (IPv4 as IPv4-mapped), masked to the prefix.
    bits: u128,
    /// Prefix length in the IPv6 space (an IPv4 /8 is /104 here).
    prefix: u32,
}

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Clone, Debug, Default)]
pub(crate) struct TrustedProxies {
    nets: Vec<IpNet>,
}

// === impl IpNet ===

impl IpNet {
    /// Parses `addr` or `addr/prefix`. `None` if it is neither, or the prefix is too long.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix.parse::<u32>().ok()?)),
            None => (text, None),
        };
        let addr: IpAddr = addr.parse().ok()?;
        let (bits, prefix) = match (addr, prefix) {
            (IpAddr::V4(_), Some(p)) if p > 32 => return None,
            (IpAddr::V6(_), Some(p)) if p > 128 => return None,
            (IpAddr::V4(_), p) => (to_bits(addr), 96 + p.unwrap_or(32)),
            (IpAddr::V6(_), p) => (to_bits(addr), p.unwrap_or(128)),
        };
        Some(Self {
            bits: bits & mask(prefix),
            prefix,
        })
    }

    /// Whether `ip` is in this network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        to_bits(ip) & mask(self.prefix) == self.bits
    }
}

// === impl TrustedProxies ===

impl TrustedProxies {
    /// From the config's list; entries that do not parse are skipped (the config check has
    /// already refused them).
    pub fn new(entries: &[String]) -> Self {
        Self {
            nets: entries.iter().filter_map(|e| IpNet::parse(e)).collect(),
        }
    }

    /// Whether `ip` is a trusted proxy.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.nets.iter().any(|n| n.contains(ip))
    }

    /// The client's address for a request from `peer` carrying `forwarded_for` (the last
    /// `X-Forwarded-For` header line).
    ///
    /// Only a trusted peer's header is read, and it is read from the right (the hop the peer
    /// itself added) leftwards, skipping further trusted proxies: the first untrusted address
    /// is the client. Everything to its left was written by the client and could be anything.
    /// An entry that is not an address stops the walk at the last address believed, so a
    /// garbled header can only make the limit stricter (the proxy's own address), never
    /// looser.
    pub fn client_ip(&self, peer: IpAddr, forwarded_for: Option<&[u8]>) -> IpAddr {
        let Some(header) = forwarded_for.filter(|_| self.contains(peer)) else {
            return peer;
        };
        let mut client = peer;
        for hop in header.rsplit(|&b| b == b',') {
            let Some(ip) = parse_hop(hop.trim_ascii()) else {
                break;
            };
            client = ip;
            if !self.contains(ip) {
                break;
            }
        }
        client
    }
}

/// The bucket key of a client: its IPv4 address, or the /64 network of an IPv6 address (one
/// host usually holds a whole /64, so keying on the full address would let it rotate through
/// 2^64 fresh buckets). IPv4-mapped IPv6 peers count as their IPv4 address.
pub(crate) fn client_key(ip: IpAddr) -> u128 {
    let bits = to_bits(ip);
    if bits >> 32 == 0xffff {
        bits
    } else {
        bits & mask(64)
    }
}

/// One `X-Forwarded-For` entry: an address, optionally with a port (`1.2.3.4:80`,
/// `[2001:db8::1]:80`).
fn parse_hop(hop: &[u8]) -> Option<IpAddr> {
    let text = std::str::from_utf8(hop).ok()?;
    text.parse::<IpAddr>()
        .ok()
        .or_else(|| text.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))
}

/// An address as 128 bits, IPv4 as IPv4-mapped IPv6.
fn to_bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => u128::from(v4.to_ipv6_mapped()),
            None => u128::from(v6),
        },
    }
}

/// The netmask of a prefix length in `0..=128`.
fn mask(prefix: u32) -> u128 {
    match prefix {
        0 => 0,
        p => u128::MAX << (128 - p.min(128)),
    }
}

/// The unspecified address, for a connection whose peer address could not be read.
pub(crate) const UNKNOWN_PEER: IpAddr = IpAddr::V6(Ipv6Addr::UNSPECIFIED);

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn networks_parse_and_match() {
        let net = IpNet::parse("10.0.0.0/8").unwrap();
        assert!(net.contains(ip("10.1.2.3")) && !net.contains(ip("11.0.0.1")));
        assert!(net.contains(ip("::ffff:10.9.9.9")));
        let one = IpNet::parse("192.168.1.7").unwrap();
        assert!(one.contains(ip("192.168.1.7")) && !one.contains(ip("192.168.1.8")));
        let v6 = IpNet::parse("2001:db8::/32").unwrap();
        assert!(v6.contains(ip("2001:db8:1::5")) && !v6.contains(ip("2001:db9::1")));
        assert!(IpNet::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        for bad in [
            "10.0.0.0/33",
            "::/129",
            "example.com",
            "10.0.0.0/x",
            "",
            "1.2.3.4/",
        ] {
            assert_eq!(IpNet::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn forwarded_for_is_read_only_from_trusted_proxies() {
        let trusted = TrustedProxies::new(&["127.0.0.1".into(), "10.0.0.0/8".into()]);
        let xff = Some(b"6.6.6.6, 203.0.113.9, 10.0.0.2".as_slice());
        // Walks right to left past trusted hops; the spoofable left part is never reached.
        assert_eq!(trusted.client_ip(ip("127.0.0.1"), xff), ip("203.0.113.9"));
        // An untrusted peer's header is ignored.
        assert_eq!(
            trusted.client_ip(ip("198.51.100.1"), xff),
            ip("198.51.100.1")
        );
        assert_eq!(trusted.client_ip(ip("127.0.0.1"), None), ip("127.0.0.1"));
        // Garbage stops the walk at the last believed address.
        let garbled = Some(b"1.1.1.1, nonsense".as_slice());
        assert_eq!(trusted.client_ip(ip("127.0.0.1"), garbled), ip("127.0.0.1"));
        let ports = Some(b"[2001:db8::1]:443, 5.5.5.5:80".as_slice());
        assert_eq!(trusted.client_ip(ip("10.1.1.1"), ports), ip("5.5.5.5"));
        assert_eq!(
            TrustedProxies::default().client_ip(ip("127.0.0.1"), xff),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn ipv6_clients_share_their_slash_64() {
        assert_eq!(
            client_key(ip("2001:db8::1")),
            client_key(ip("2001:db8::ffff:1"))
        );
        assert_ne!(
            client_key(ip("2001:db8::1")),
            client_key(ip("2001:db8:0:1::1"))
        );
        assert_eq!(client_key(ip("1.2.3.4")), client_key(ip("::ffff:1.2.3.4")));
        assert_ne!(client_key(ip("1.2.3.4")), client_key(ip("1.2.3.5")));
    }
}
