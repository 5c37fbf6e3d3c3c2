//! `store = "memory" | "redis"` and `[redis]`: where replay records, server-side sessions,
//! pop-up hand-offs and revocations live. Memory is the default (one node); Redis lets several
//! nodes behind one load balancer share them.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration as StdDuration;

use chrono::Duration;
use url::Url;

use super::raw::RawRedis;
use super::{Secret, Validate};

/// Where shared state lives.
#[derive(Debug)]
pub enum StoreConfig {
    /// In this process (bounded, lost on restart): one node.
    Memory,
    /// A Redis server shared by every node.
    Redis(Box<RedisConfig>),
}

impl StoreConfig {
    /// `"memory"` or `"redis"`.
    pub fn name(&self) -> &'static str {
        match self {
            StoreConfig::Memory => "memory",
            StoreConfig::Redis(_) => "redis",
        }
    }
}

/// `[redis]`, validated.
#[derive(Clone)]
pub struct RedisConfig {
    /// `redis://host:port/db` or `rediss://…` (TLS); never holds a password.
    pub url: Url,
    /// The AUTH password (`password_file`).
    pub password: Option<Secret<String>>,
    /// PEM CA certificates that verify the server (`rediss://` only); the system roots
    /// otherwise.
    pub tls_ca_file: Option<PathBuf>,
    /// The CA certificates' PEM text, read at start-up.
    pub tls_ca_pem: Option<Vec<u8>>,
    /// Connections per node (each multiplexes many commands).
    pub pool_size: usize,
    /// Time allowed to open a connection (TCP, TLS, AUTH).
    pub connect_timeout: StdDuration,
    /// Time allowed for one store operation, waiting for a connection included.
    pub command_timeout: StdDuration,
    /// Prefix of every key fedrp writes (`fedrp:`), so several deployments can share a server.
    pub key_prefix: String,
    /// How long a cookie-mode session this node checked keeps working while Redis cannot be
    /// read (0: refused at once).
    pub revocation_grace: Duration,
}

impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &self.url.as_str())
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .field("tls_ca_file", &self.tls_ca_file)
            .field("pool_size", &self.pool_size)
            .field("connect_timeout", &self.connect_timeout)
            .field("command_timeout", &self.command_timeout)
            .field("key_prefix", &self.key_prefix)
            .field("revocation_grace", &self.revocation_grace)
            .finish()
    }
}

impl Validate {
    fn millis(&mut self, key: &str, v: Option<u64>, default: u64) -> StdDuration {
        let ms = v.unwrap_or(default);
        if !(10..=60_000).contains(&ms) {
            self.err(
                key,
                format!("{ms} is out of range"),
                "use 10 to 60000 milliseconds",
            );
        }
        StdDuration::from_millis(ms.clamp(10, 60_000))
    }

    pub(super) fn store(&mut self, store: Option<&str>, r: Option<&RawRedis>) -> StoreConfig {
        match store.unwrap_or("memory") {
            "memory" => {
                if r.is_some() {
                    self.warnings
                        .push("[redis] is ignored: store = \"memory\"".into());
                }
                StoreConfig::Memory
            }
            "redis" => match r {
                Some(r) => self
                    .redis(r)
                    .map(|r| StoreConfig::Redis(Box::new(r)))
                    .unwrap_or(StoreConfig::Memory),
                None => {
                    self.err(
                        "redis.url",
                        "store = \"redis\" needs a [redis] section",
                        "add [redis] url = \"redis://127.0.0.1:6379\" (see config.example.toml)",
                    );
                    StoreConfig::Memory
                }
            },
            other => {
                self.err(
                    "store",
                    format!("unknown store {other:?}"),
                    "use \"memory\" (one node) or \"redis\" (several nodes)",
                );
                StoreConfig::Memory
            }
        }
    }

    fn redis(&mut self, r: &RawRedis) -> Option<RedisConfig> {
        let errors = self.errors.len();
        let url = match r.url.as_deref().map(Url::parse) {
            None => {
                self.err(
                    "redis.url",
                    "missing",
                    "e.g. redis://127.0.0.1:6379 or rediss://redis.example.com:6380 (TLS)",
                );
                None
            }
            Some(Err(e)) => {
                self.err(
                    "redis.url",
                    format!("not a URL: {e}"),
                    "e.g. redis://127.0.0.1:6379",
                );
                None
            }
            Some(Ok(u)) => {
                if !matches!(u.scheme(), "redis" | "rediss") || u.host_str().is_none() {
                    self.err(
                        "redis.url",
                        format!(
                            "{:?} is not a redis:// or rediss:// URL with a host",
                            u.scheme()
                        ),
                        "e.g. redis://127.0.0.1:6379 (rediss:// for TLS)",
                    );
                } else if u.password().is_some() {
                    // Never print what was written: it is a password.
                    self.err(
                        "redis.url",
                        "the URL holds a password",
                        "put it in a file and name it in redis.password_file",
                    );
                } else if u.query().is_some() || u.fragment().is_some() {
                    self.err(
                        "redis.url",
                        "query and fragment are not supported",
                        "write scheme://[user@]host:port[/db]",
                    );
                }
                Some(u)
            }
        };
        let password = r.password_file.as_deref().and_then(|f| {
            let p = self.path(f);
            match std::fs::read_to_string(&p) {
                Ok(text) => {
                    let pw = text.trim_end_matches(['\r', '\n']).to_owned();
                    if pw.is_empty() {
                        self.err(
                            "redis.password_file",
                            format!("{} is empty", p.display()),
                            "write the Redis password (requirepass or the ACL user's) into it",
                        );
                        None
                    } else {
                        Some(Secret(pw))
                    }
                }
                Err(e) => {
                    self.err(
                        "redis.password_file",
                        format!("{}: {e}", p.display()),
                        "paths are relative to the config file",
                    );
                    None
                }
            }
        });
        let tls = url.as_ref().is_some_and(|u| u.scheme() == "rediss");
        let tls_ca_file = r.tls_ca_file.as_deref().map(|f| self.path(f));
        let tls_ca_pem = match &tls_ca_file {
            Some(_) if !tls => {
                self.err(
                    "redis.tls_ca_file",
                    "only used with a rediss:// URL",
                    "use rediss:// for TLS, or remove tls_ca_file",
                );
                None
            }
            Some(p) => match std::fs::read(p) {
                Ok(pem)
                    if openssl::x509::X509::stack_from_pem(&pem).is_ok_and(|s| !s.is_empty()) =>
                {
                    Some(pem)
                }
                Ok(_) => {
                    self.err(
                        "redis.tls_ca_file",
                        format!("{}: no PEM certificate", p.display()),
                        "give the CA certificate(s) that signed the Redis server's certificate",
                    );
                    None
                }
                Err(e) => {
                    self.err(
                        "redis.tls_ca_file",
                        format!("{}: {e}", p.display()),
                        "paths are relative to the config file",
                    );
                    None
                }
            },
            None => None,
        };
        let pool_size = r.pool_size.unwrap_or(4);
        if !(1..=64).contains(&pool_size) {
            self.err(
                "redis.pool_size",
                format!("{pool_size} is out of range"),
                "use 1 to 64 connections per node",
            );
        }
        let connect_timeout = self.millis("redis.connect_timeout_ms", r.connect_timeout_ms, 1000);
        let command_timeout = self.millis("redis.command_timeout_ms", r.command_timeout_ms, 250);
        let key_prefix = r.key_prefix.clone().unwrap_or_else(|| "fedrp:".into());
        if key_prefix.is_empty()
            || key_prefix.len() > 64
            || !key_prefix.bytes().all(|b| b.is_ascii_graphic())
        {
            self.err(
                "redis.key_prefix",
                format!("{key_prefix:?} is not a usable prefix"),
                "use 1 to 64 visible ASCII characters, e.g. \"fedrp:\" or \"fedrp-prod:\"",
            );
        }
        let grace = r.revocation_grace_secs.unwrap_or(60);
        if grace > 3600 {
            self.err(
                "redis.revocation_grace_secs",
                format!("{grace} is out of range"),
                "use 0 (refuse at once) to 3600 seconds",
            );
        }
        if self.errors.len() > errors {
            return None;
        }
        Some(RedisConfig {
            url: url?,
            password,
            tls_ca_file,
            tls_ca_pem,
            pool_size,
            connect_timeout,
            command_timeout,
            key_prefix,
            revocation_grace: Duration::seconds(grace.min(3600) as i64),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, ConfigErrors, StoreConfig, report};

    /// The store keys in `head`, on top of the minimal configuration the other tests use.
    fn load(head: &str, env: &[(&str, &str)]) -> Result<Config, ConfigErrors> {
        crate::config::tests::load(&format!("{head}\n{}", crate::config::tests::MINIMAL), env)
    }

    fn paths(e: ConfigErrors) -> Vec<String> {
        e.0.into_iter().map(|e| e.path).collect()
    }

    #[test]
    fn memory_is_the_default_and_redis_is_configured_with_defaults() {
        let c = load("", &[]).unwrap();
        assert!(matches!(c.store, StoreConfig::Memory));
        let c = load(
            "store = \"redis\"\n[redis]\nurl = \"redis://127.0.0.1:6379/2\"",
            &[],
        )
        .unwrap();
        let StoreConfig::Redis(r) = &c.store else {
            panic!("redis expected");
        };
        assert_eq!(r.url.as_str(), "redis://127.0.0.1:6379/2");
        assert_eq!(r.pool_size, 4);
        assert_eq!(r.command_timeout.as_millis(), 250);
        assert_eq!(r.connect_timeout.as_millis(), 1000);
        assert_eq!(r.key_prefix, "fedrp:");
        assert_eq!(r.revocation_grace.num_seconds(), 60);
        assert!(r.password.is_none());
    }

    #[test]
    fn environment_overrides_select_redis() {
        let c = load(
            "",
            &[
                ("FEDRP__STORE", "redis"),
                ("FEDRP__REDIS__URL", "rediss://redis.example.com:6380"),
                ("FEDRP__REDIS__POOL_SIZE", "8"),
            ],
        )
        .unwrap();
        let StoreConfig::Redis(r) = &c.store else {
            panic!("redis expected");
        };
        assert_eq!((r.url.scheme(), r.pool_size), ("rediss", 8));
    }

    #[test]
    fn bad_redis_settings_are_reported_with_their_key() {
        let e = load("store = \"redis\"", &[]).unwrap_err();
        assert_eq!(paths(e), ["redis.url"]);
        let e = load("store = \"etcd\"", &[]).unwrap_err();
        assert_eq!(paths(e), ["store"]);
        let e = load(
            "store = \"redis\"\n[redis]\nurl = \"redis://:hunter2@127.0.0.1\"",
            &[],
        )
        .unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
        assert_eq!(paths(e), ["redis.url"]);
        let e = load(
            "store = \"redis\"\n[redis]\nurl = \"http://127.0.0.1\"\npool_size = 0\n\
             command_timeout_ms = 1\nkey_prefix = \"a b\"\nrevocation_grace_secs = 99999\n\
             tls_ca_file = \"certs/idp-a.pem\"\npassword_file = \"missing.txt\"",
            &[],
        )
        .unwrap_err();
        let mut p = paths(e);
        p.sort();
        assert_eq!(
            p,
            [
                "redis.command_timeout_ms",
                "redis.key_prefix",
                "redis.password_file",
                "redis.pool_size",
                "redis.revocation_grace_secs",
                "redis.tls_ca_file",
                "redis.url",
            ]
        );
    }

    #[test]
    fn check_config_shows_redis_with_the_password_redacted() {
        let dir = std::env::temp_dir().join(format!("fedrp-redis-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pw = dir.join("pw");
        std::fs::write(&pw, "very-secret-pw\n").unwrap();
        let c = load(
            &format!(
                "store = \"redis\"\n[redis]\nurl = \"rediss://fedrp@localhost:6380\"\n\
                 password_file = {:?}\ntls_ca_file = \"certs/rp-tls.pem\"",
                pw.display().to_string()
            ),
            &[],
        )
        .unwrap();
        let StoreConfig::Redis(r) = &c.store else {
            panic!("redis expected");
        };
        assert_eq!(
            r.password.as_ref().map(|p| p.expose().as_str()),
            Some("very-secret-pw")
        );
        let text = report::to_text(&c);
        let json = report::to_json(&c).to_string();
        for out in [&text, &json, &format!("{c:?}")] {
            assert!(!out.contains("very-secret-pw"), "{out}");
        }
        assert!(text.contains("store = \"redis\""), "{text}");
        assert!(text.contains("[redacted]"), "{text}");
        assert_eq!(
            report::to_json(&c)["redis"]["url"],
            "rediss://fedrp@localhost:6380"
        );
        // With the memory store, a [redis] section only warns.
        let c = load("[redis]\nurl = \"redis://127.0.0.1\"", &[]).unwrap();
        assert!(c.warnings.iter().any(|w| w.contains("[redis] is ignored")));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
