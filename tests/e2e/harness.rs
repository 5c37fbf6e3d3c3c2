//! Process orchestration for the end-to-end tests: run directories, free ports, child processes
//! that are always stopped (on drop, so on panic too), readiness waits, a minimal HTTP client,
//! and the headless-Chromium driver (`tests/e2e/browser.js`).
//!
//! Nothing here sleeps to synchronise: every wait polls a condition (a port accepts, a URL
//! answers 200, a line is printed, a process has exited) under a deadline and fails with what
//! it was waiting for.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `tests/e2e/` (the Node project, the SimpleSAMLphp templates).
pub fn e2e_dir() -> PathBuf {
    root().join("tests/e2e")
}

/// Where screenshots and reports are kept after the run (git-ignored, under `target/`).
pub fn artifacts_dir() -> PathBuf {
    let d = root().join("target/e2e-artifacts");
    fs::create_dir_all(&d).expect("create target/e2e-artifacts");
    d
}

/// A fresh directory for one test's generated configuration, state and logs, under
/// `target/e2e-run/` (kept after the run for diagnosis; emptied when the same test runs again).
pub fn run_dir(test: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let d = root().join("target/e2e-run").join(if n == 0 {
        test.to_owned()
    } else {
        format!("{test}-{n}")
    });
    if d.exists() {
        fs::remove_dir_all(&d).unwrap_or_else(|e| panic!("clean {}: {e}", d.display()));
    }
    fs::create_dir_all(&d).unwrap_or_else(|e| panic!("create {}: {e}", d.display()));
    d
}

/// Finds an executable on PATH or in the system directories PATH may lack (php-fpm and nginx
/// live in /usr/sbin).
pub fn which(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    dirs.extend(["/usr/sbin", "/usr/bin", "/sbin", "/bin"].map(PathBuf::from));
    names
        .iter()
        .flat_map(|n| dirs.iter().map(move |d| d.join(n)))
        .find(|p| p.is_file())
}

/// Fails the test with a clear message when a system prerequisite is missing.
pub fn require(what: &str, found: Option<PathBuf>) -> PathBuf {
    found.unwrap_or_else(|| {
        panic!(
            "end-to-end prerequisite missing: {what}. Install the test set-up first: \
             `scripts/install-deps.sh test` (what `make test` runs)."
        )
    })
}

/// The Node project's packages must be installed (`npm ci` in tests/e2e, done by
/// `scripts/install-deps.sh test`).
pub fn require_node_modules() -> PathBuf {
    for p in ["playwright-core", "wsfed", "samlp"] {
        let d = e2e_dir().join("node_modules").join(p);
        if !d.is_dir() {
            panic!(
                "end-to-end prerequisite missing: {} (run `scripts/install-deps.sh test`, which \
                 runs `npm ci` in tests/e2e)",
                d.display()
            );
        }
    }
    require("node (Debian package nodejs)", which(&["node"]))
}

/// A port that was free a moment ago on 127.0.0.1 (the OS picks it; the listener is closed
/// so that the process under test can bind it).
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local_addr").port()
}

/// Whether the current user is root (php-fpm and nginx need to be told).
pub fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// A child process that is stopped when dropped: SIGTERM, then SIGKILL if it has not exited
/// within the grace period. stdout/stderr go to `<dir>/<name>.out|.err` unless piped.
pub struct Proc {
    pub name: String,
    child: Child,
    /// Kept open so that a Node child sees end-of-file (and exits) if the test dies.
    stdin: Option<ChildStdin>,
    pub log_out: PathBuf,
    pub log_err: PathBuf,
}

impl Proc {
    /// Spawns `cmd` with its output logged under `dir`.
    pub fn spawn(name: &str, mut cmd: Command, dir: &Path) -> Proc {
        let log_out = dir.join(format!("{name}.out"));
        let log_err = dir.join(format!("{name}.err"));
        cmd.stdin(Stdio::piped())
            .stdout(fs::File::create(&log_out).expect("create log"))
            .stderr(fs::File::create(&log_err).expect("create log"));
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("start {name} ({cmd:?}): {e}"));
        let stdin = child.stdin.take();
        Proc {
            name: name.to_owned(),
            child,
            stdin,
            log_out,
            log_err,
        }
    }

    /// Spawns `cmd` and waits (up to `timeout`) for a stdout line starting with `prefix`;
    /// returns the process and the rest of that line. Later output is copied to the log.
    pub fn spawn_until_line(
        name: &str,
        mut cmd: Command,
        dir: &Path,
        prefix: &str,
        timeout: Duration,
    ) -> (Proc, String) {
        let log_out = dir.join(format!("{name}.out"));
        let log_err = dir.join(format!("{name}.err"));
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(fs::File::create(&log_err).expect("create log"));
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("start {name} ({cmd:?}): {e}"));
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        let prefix_owned = prefix.to_owned();
        let log = log_out.clone();
        std::thread::spawn(move || {
            let mut out = fs::File::create(&log).expect("create log");
            let mut sent = false;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = writeln!(out, "{line}");
                if !sent && let Some(rest) = line.strip_prefix(&prefix_owned) {
                    let _ = tx.send(rest.trim().to_owned());
                    sent = true;
                }
            }
        });
        let mut proc = Proc {
            name: name.to_owned(),
            child,
            stdin,
            log_out,
            log_err,
        };
        match rx.recv_timeout(timeout) {
            Ok(rest) => (proc, rest),
            Err(_) => {
                let status = proc.child.try_wait().ok().flatten();
                panic!(
                    "{name} did not print `{prefix}` within {timeout:?} (exit status: {status:?}); \
                     stderr:\n{}",
                    proc.stderr_tail()
                )
            }
        }
    }

    /// The last lines of the process's stderr log.
    pub fn stderr_tail(&self) -> String {
        tail(&self.log_err, 40)
    }

    /// Panics (with the log) if the process has already exited.
    pub fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "{} exited early ({status}); stderr:\n{}\nstdout:\n{}",
                self.name,
                self.stderr_tail(),
                tail(&self.log_out, 20)
            );
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        drop(self.stdin.take());
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let pid = rustix::process::Pid::from_raw(self.child.id() as i32);
        if let Some(pid) = pid {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!("{} did not stop on SIGTERM within 10 s: SIGKILL", self.name);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The last `n` lines of a file.
pub fn tail(path: &Path, n: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// A response of the minimal client.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One plain-HTTP GET to 127.0.0.1 (`Connection: close`), for readiness and simple checks.
pub fn http_get(url: &str) -> std::io::Result<HttpResponse> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| std::io::Error::other(format!("not an http:// URL: {url}")))?;
    let (hostport, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let mut s = TcpStream::connect(hostport)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\nUser-Agent: fedrp-e2e\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no header end"))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other("bad status line"))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect::<Vec<_>>();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(i) = b.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&b[..i])
                .split(';')
                .next()
                .unwrap_or("0")
                .trim(),
            16,
        )
        .unwrap_or(0);
        if size == 0 || b.len() < i + 2 + size {
            break;
        }
        out.extend_from_slice(&b[i + 2..i + 2 + size]);
        b = &b[(i + 4 + size).min(b.len())..];
    }
    out
}

/// Waits until `url` answers `want` (polling every 50 ms), or panics after `timeout` with the
/// last error and the process's log.
pub fn wait_http(url: &str, want: u16, timeout: Duration, procs: &mut [&mut Proc]) {
    let deadline = Instant::now() + timeout;
    let mut last = String::new();
    while Instant::now() < deadline {
        for p in procs.iter_mut() {
            p.assert_running();
        }
        match http_get(url) {
            Ok(r) if r.status == want => return,
            Ok(r) => {
                last = format!(
                    "status {}: {}",
                    r.status,
                    String::from_utf8_lossy(&r.body)
                        .chars()
                        .take(300)
                        .collect::<String>()
                )
            }
            Err(e) => last = e.to_string(),
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let logs: String = procs
        .iter()
        .map(|p| format!("--- {} stderr:\n{}\n", p.name, p.stderr_tail()))
        .collect();
    panic!("{url} did not answer {want} within {timeout:?} (last: {last})\n{logs}");
}

/// Waits until a TCP port on 127.0.0.1 accepts connections.
pub fn wait_port(port: u16, timeout: Duration, proc: &mut Proc) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        proc.assert_running();
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "{} did not accept connections on 127.0.0.1:{port} within {timeout:?}; stderr:\n{}",
        proc.name,
        proc.stderr_tail()
    );
}

/// Writes a JSON value to a file.
pub fn write_json(path: &Path, v: &Value) {
    fs::write(path, serde_json::to_vec_pretty(v).expect("json")).expect("write json");
}

/// Runs one browser plan (see `tests/e2e/browser.js`) and returns its report. The plan's
/// failure screenshot goes to the artifacts directory as `<name>-failure.png`.
pub fn run_browser(name: &str, dir: &Path, mut plan: Value) -> Value {
    let node = require_node_modules();
    let chromium = require(
        "chromium (Debian package chromium)",
        which(&["chromium", "chromium-browser"]),
    );
    plan["chromium"] = Value::String(chromium.display().to_string());
    let failure_shot = artifacts_dir().join(format!("{name}-failure.png"));
    let _ = fs::remove_file(&failure_shot);
    plan["failure_screenshot"] = Value::String(failure_shot.display().to_string());
    let plan_path = dir.join(format!("{name}.plan.json"));
    write_json(&plan_path, &plan);
    let mut cmd = Command::new(node);
    cmd.arg(e2e_dir().join("browser.js")).arg(&plan_path);
    let (out, err) = (
        dir.join(format!("{name}.browser.out")),
        dir.join(format!("{name}.browser.err")),
    );
    let status = cmd
        .stdin(Stdio::null())
        .stdout(fs::File::create(&out).expect("log"))
        .stderr(fs::File::create(&err).expect("log"))
        .status()
        .expect("run node browser.js");
    let text = fs::read_to_string(&out).unwrap_or_default();
    let report: Value = text
        .lines()
        .last()
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| {
            panic!(
                "browser driver produced no report (exit {status}); stderr:\n{}",
                tail(&err, 40)
            )
        });
    write_json(
        &artifacts_dir().join(format!("{name}.report.json")),
        &report,
    );
    report
}

/// Panics with the failing step when a browser report has an error.
pub fn expect_ok(report: &Value, context: &str) {
    if let Some(e) = report["error"].as_str() {
        let mut msg = format!("{context}: browser plan failed: {e}\n");
        if let Some(last) = report["steps"].as_array().and_then(|s| s.last()) {
            let _ = writeln!(
                msg,
                "last step: {}",
                serde_json::to_string_pretty(last).unwrap_or_default()
            );
        }
        panic!("{msg}");
    }
}
