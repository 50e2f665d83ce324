//! SIP endpoint configuration: where to listen, which dialled numbers reach which tenant and
//! script, who may call in, and the trunk used for outbound calls. Deserialised from the
//! runtime's YAML/JSON, then checked with [`SipConfig::validate`], which reports every error.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

use serde::Deserialize;

/// The SIP endpoint's settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SipConfig {
    /// UDP address for SIP signalling, e.g. `0.0.0.0:5060` (port 0 picks a free port).
    pub bind: SocketAddr,
    /// Address advertised in Contact and SDP when `bind` is a wildcard or behind NAT.
    #[serde(default)]
    pub public_addr: Option<IpAddr>,
    /// Dialled number (Request-URI user part) → where the call goes. `*` matches any number.
    #[serde(default)]
    pub routes: BTreeMap<String, Route>,
    /// Source networks allowed to call in (`10.0.0.0/8`, `192.0.2.7`); empty allows anyone.
    #[serde(default)]
    pub allow_from: Vec<Cidr>,
    /// Digest users allowed to call in; when non-empty, an INVITE must also authenticate
    /// (401 challenge) as one of them.
    #[serde(default)]
    pub inbound_users: Vec<DigestUser>,
    /// The trunk that outbound calls go through.
    #[serde(default)]
    pub trunk: Option<TrunkConfig>,
    /// A call receiving no RTP for this long is ended with reason `no_rtp`.
    #[serde(default = "default_no_rtp_secs")]
    pub no_rtp_timeout_secs: u64,
    /// How long to ring (180) before answering, in ms.
    #[serde(default)]
    pub ring_ms: u64,
}

fn default_no_rtp_secs() -> u64 {
    30
}

/// Where an inbound number goes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    pub tenant: String,
    pub script: String,
}

/// A user who may call in with digest authentication.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigestUser {
    pub user: String,
    /// Name of the environment variable holding the password.
    pub password_env: String,
}

/// An outbound trunk.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrunkConfig {
    /// Host (and optional `:port`) of the trunk's SIP server.
    pub host: String,
    /// Digest user name.
    #[serde(default)]
    pub user: Option<String>,
    /// Name of the environment variable holding the digest password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// Caller id presented on outbound calls (the From user).
    pub caller_id: String,
    /// Signalling transport to the trunk.
    #[serde(default)]
    pub transport: SipTransport,
    /// Register with the trunk (as `user`, else `caller_id`), refreshed before expiry.
    #[serde(default)]
    pub register: bool,
    /// Registration lifetime we ask for.
    #[serde(default = "default_register_expires")]
    pub register_expires_secs: u32,
    /// Send an OPTIONS keep-alive to the trunk this often.
    #[serde(default)]
    pub keepalive_secs: Option<u64>,
}

fn default_register_expires() -> u32 {
    300
}

/// How SIP messages travel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SipTransport {
    #[default]
    Udp,
    /// One reused TCP connection per peer (RFC 3261 §18).
    Tcp,
}

/// An IPv4/IPv6 network in CIDR notation; a bare address is a /32 (/128).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            (IpAddr::V6(_), IpAddr::V4(v4)) => self.contains(IpAddr::V6(v4.to_ipv6_mapped())),
            (IpAddr::V4(_), IpAddr::V6(v6)) => v6
                .to_ipv4_mapped()
                .is_some_and(|v4| self.contains(v4.into())),
        }
    }
}

impl std::str::FromStr for Cidr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (addr, prefix) = s.split_once('/').unwrap_or((s, ""));
        let addr: IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| format!("{s:?} is not an address or network"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = if prefix.is_empty() {
            max
        } else {
            prefix
                .parse()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s:?} has an invalid prefix length"))?
        };
        Ok(Cidr { addr, prefix })
    }
}

impl<'de> Deserialize<'de> for Cidr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A configuration problem found by [`SipConfig::validate`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("route {number:?}: {what} is empty")]
    EmptyRouteField { number: String, what: &'static str },
    #[error("trunk: {0}")]
    Trunk(String),
    #[error("no_rtp_timeout_secs must be at least 1")]
    NoRtpTimeout,
}

impl SipConfig {
    /// Checks what serde cannot.
    ///
    /// # Errors
    /// Every problem found.
    pub fn validate(&self) -> Result<(), Vec<ConfigError>> {
        let mut errors = Vec::new();
        for (number, route) in &self.routes {
            for (what, v) in [("tenant", &route.tenant), ("script", &route.script)] {
                if v.trim().is_empty() {
                    errors.push(ConfigError::EmptyRouteField {
                        number: number.clone(),
                        what,
                    });
                }
            }
        }
        if let Some(t) = &self.trunk {
            if t.host.trim().is_empty() {
                errors.push(ConfigError::Trunk("host is empty".into()));
            }
            if t.user.is_some() != t.password_env.is_some() {
                errors.push(ConfigError::Trunk(
                    "user and password_env go together".into(),
                ));
            }
        }
        if self.no_rtp_timeout_secs == 0 {
            errors.push(ConfigError::NoRtpTimeout);
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// The route for a dialled number: exact match, else the `*` route.
    pub fn route_for(&self, number: &str) -> Option<&Route> {
        self.routes.get(number).or_else(|| self.routes.get("*"))
    }

    /// Whether a source address may call in.
    pub fn allows(&self, ip: IpAddr) -> bool {
        self.allow_from.is_empty() || self.allow_from.iter().any(|c| c.contains(ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deserialises_validates_and_routes() {
        let json = serde_json::json!({
            "bind": "127.0.0.1:5080",
            "routes": {"+15550100": {"tenant": "acme", "script": "survey"},
                       "200": {"tenant": "", "script": "x"}},
            "allow_from": ["127.0.0.0/8", "::1"],
            "trunk": {"host": "sip.example.net", "user": "u", "caller_id": "+15550199"},
        });
        let cfg: SipConfig = serde_json::from_value(json).unwrap();
        assert_eq!(cfg.no_rtp_timeout_secs, 30);
        assert_eq!(cfg.route_for("+15550100").unwrap().script, "survey");
        assert!(cfg.route_for("999").is_none());
        assert!(cfg.allows("127.9.9.9".parse().unwrap()));
        assert!(cfg.allows("::1".parse().unwrap()));
        assert!(!cfg.allows("10.0.0.1".parse().unwrap()));
        let errors = cfg.validate().unwrap_err();
        assert_eq!(errors.len(), 2, "{errors:?}");
    }

    #[test]
    fn refuses_unknown_fields_and_bad_networks() {
        let bad = serde_json::json!({"bind": "0.0.0.0:5060", "alow_from": []});
        assert!(serde_json::from_value::<SipConfig>(bad).is_err());
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("nope".parse::<Cidr>().is_err());
        let any: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(any.contains("203.0.113.5".parse().unwrap()));
    }
}
