//! A real `redis-server` for the farm tests: started on a free loopback port with a temporary
//! directory and no persistence (`--save "" --appendonly no`), polled until it answers, killed
//! on drop. `kill` / `restart` (same port, empty again) and `pause` / `resume` (SIGSTOP /
//! SIGCONT: a Redis that stops answering) drive the failure tests. Installed by
//! `scripts/install-deps.sh test` (`make test`).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct RedisServer {
    pub port: u16,
    dir: PathBuf,
    args: Vec<String>,
    child: Option<Child>,
    /// TLS: the client connects with `--tls`.
    tls: bool,
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("addr").port()
}

impl RedisServer {
    /// A plain server; `extra` is appended to the command line (`--requirepass x`).
    pub fn start(extra: &[&str]) -> RedisServer {
        Self::start_with(extra, false)
    }

    /// A TLS-only server using `certs/rp-tls.{pem,key}` (CN and SAN `localhost`).
    pub fn start_tls() -> RedisServer {
        let certs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("certs");
        let cert = certs.join("rp-tls.pem").display().to_string();
        let key = certs.join("rp-tls.key").display().to_string();
        Self::start_with(
            &[
                "--tls-cert-file",
                &cert,
                "--tls-key-file",
                &key,
                "--tls-auth-clients",
                "no",
            ],
            true,
        )
    }

    fn start_with(extra: &[&str], tls: bool) -> RedisServer {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("fedrp-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("redis temp dir");
        let mut args: Vec<String> = if tls {
            vec![
                "--port".into(),
                "0".into(),
                "--tls-port".into(),
                port.to_string(),
            ]
        } else {
            vec!["--port".into(), port.to_string()]
        };
        args.extend(
            [
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
            ]
            .iter()
            .map(|s| s.to_string()),
        );
        args.push(dir.display().to_string());
        args.extend(extra.iter().map(|s| s.to_string()));
        let mut s = RedisServer {
            port,
            dir,
            args,
            child: None,
            tls,
        };
        s.spawn();
        s
    }

    fn spawn(&mut self) {
        let child = Command::new("redis-server")
            .args(&self.args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start redis-server ({e}): install it with scripts/install-deps.sh test"
                )
            });
        self.child = Some(child);
        self.wait_ready();
    }

    /// Polls (bounded) until the server accepts connections and answers.
    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(c) = self.child.as_mut()
                && let Ok(Some(status)) = c.try_wait()
            {
                panic!("redis-server exited: {status} (args {:?})", self.args);
            }
            if self.answers() {
                return;
            }
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn answers(&self) -> bool {
        if self.tls {
            return self.cli(&["PING"]).is_some();
        }
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        s.set_read_timeout(Some(Duration::from_secs(1))).ok();
        if s.write_all(b"PING\r\n").is_err() {
            return false;
        }
        let mut buf = [0u8; 64];
        // +PONG, or -NOAUTH with requirepass: either way it is up.
        matches!(s.read(&mut buf), Ok(n) if n > 0)
    }

    /// `redis://127.0.0.1:<port>` (or `rediss://localhost:<port>` with TLS).
    pub fn url(&self) -> String {
        if self.tls {
            format!("rediss://localhost:{}", self.port)
        } else {
            format!("redis://127.0.0.1:{}", self.port)
        }
    }

    /// Runs `redis-cli` against this server; `None` when it fails.
    pub fn cli(&self, args: &[&str]) -> Option<String> {
        let mut cmd = Command::new("redis-cli");
        if self.tls {
            let ca = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("certs/rp-tls.pem");
            cmd.args(["--tls", "--cacert"])
                .arg(ca)
                .args(["-h", "localhost"]);
        } else {
            cmd.args(["-h", "127.0.0.1"]);
        }
        if let Some(i) = self.args.iter().position(|a| a == "--requirepass") {
            cmd.args(["-a", &self.args[i + 1], "--no-auth-warning"]);
        }
        let out = cmd
            .args(["-p", &self.port.to_string()])
            .args(args)
            .stderr(Stdio::null())
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        (out.status.success() && !text.starts_with("ERR") && !text.starts_with("NOAUTH"))
            .then_some(text)
    }

    /// Keys matching `pattern`.
    pub fn keys(&self, pattern: &str) -> Vec<String> {
        self.cli(&["--scan", "--pattern", pattern])
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// SIGKILL: the data is gone (no persistence).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts again on the same port, empty.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    fn signal(&self, sig: &str) {
        let pid = self.child.as_ref().expect("running").id().to_string();
        let ok = Command::new("kill")
            .args([sig, &pid])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill {sig} {pid}");
    }

    /// SIGSTOP: connections stay open, nothing answers (a slow Redis).
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// SIGCONT.
    pub fn resume(&self) {
        self.signal("-CONT");
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(c) = &self.child {
            // A paused server would ignore SIGKILL's reaping until continued.
            let _ = Command::new("kill")
                .args(["-CONT", &c.id().to_string()])
                .status();
        }
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
