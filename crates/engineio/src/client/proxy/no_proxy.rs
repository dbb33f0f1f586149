//! `NO_PROXY`: the hosts that bypass the proxy of the environment.

use std::net::IpAddr;

/// The hosts `NO_PROXY` exempts: `*` (all), IP addresses and networks
/// (`10.0.0.0/8`), and domains, each matching itself and its subdomains
/// (`example.com` and `.example.com` both match `a.example.com`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct NoProxy {
    all: bool,
    /// An address and the number of leading bits that must match.
    networks: Vec<(IpAddr, u8)>,
    /// Lowercase, without a leading dot.
    domains: Vec<String>,
}

impl NoProxy {
    /// Parses a comma-separated list; blanks and empty entries are ignored.
    pub(crate) fn parse(list: &str) -> Self {
        let mut no = Self::default();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            if entry == "*" {
                no.all = true;
            } else if let Some(network) = parse_network(entry) {
                no.networks.push(network);
            } else {
                let domain = entry.trim_start_matches('.').to_ascii_lowercase();
                if !domain.is_empty() {
                    no.domains.push(domain);
                }
            }
        }
        no
    }

    /// Whether `host` (a domain, or an IP address with or without
    /// brackets) goes without the proxy.
    pub(crate) fn matches(&self, host: &str) -> bool {
        if self.all {
            return true;
        }
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = host.parse::<IpAddr>() {
            return self
                .networks
                .iter()
                .any(|&(network, bits)| in_network(ip, network, bits));
        }
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.domains.iter().any(|domain| {
            host == *domain
                || host
                    .strip_suffix(domain.as_str())
                    .is_some_and(|rest| rest.ends_with('.'))
        })
    }
}

/// `1.2.3.4`, `::1`, `[::1]`, `10.0.0.0/8` or `fd00::/8`.
fn parse_network(entry: &str) -> Option<(IpAddr, u8)> {
    let (address, bits) = match entry.split_once('/') {
        Some((address, bits)) => (address, Some(bits.parse::<u8>().ok()?)),
        None => (entry, None),
    };
    let ip: IpAddr = address
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let bits = bits.unwrap_or(max);
    (bits <= max).then_some((ip, bits))
}

fn in_network(ip: IpAddr, network: IpAddr, bits: u8) -> bool {
    match (ip, network) {
        (IpAddr::V4(ip), IpAddr::V4(network)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(network) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(network)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(network) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_proxy_matching() {
        let no = NoProxy::parse("*");
        assert!(no.matches("anything.example") && no.matches("127.0.0.1") && no.matches("[::1]"));
        let no = NoProxy::parse("127.0.0.1, 192.168.0.0/16, fd00::/8, [::2], , host");
        assert!(no.matches("127.0.0.1"));
        assert!(!no.matches("127.0.0.2"));
        assert!(no.matches("192.168.44.1"));
        assert!(!no.matches("192.169.0.1"));
        assert!(no.matches("fd12::1"));
        assert!(no.matches("[::2]"));
        assert!(no.matches("host") && no.matches("a.b.host") && no.matches("host."));
        assert!(!no.matches("ahost") && !no.matches("host.com"));
        let no = NoProxy::parse("0.0.0.0/0");
        assert!(no.matches("8.8.8.8") && !no.matches("::1"));
        assert!(!NoProxy::parse("").matches("h"));
        assert!(!NoProxy::parse(" , ,").matches("h"));
    }
}
