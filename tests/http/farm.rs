//! Several nodes sharing state (project issue 6). The same behaviour suite runs against the
//! memory store (one node: "node A" and "node B" are the same server) and against a real
//! `redis-server` shared by two in-process nodes with the same session keys, as a farm behind a
//! load balancer would be: replay refused on the other node, a session created on A valid on B,
//! sign-out on A ending it on B (cookie and server-side sessions), sliding renewal of server
//! records, 1,000 concurrent sign-ins with no lost, duplicated or crossed session. Redis only:
//! killed and restarted mid-run (fail closed, recover, nothing accepted that should not be), a
//! Redis that stops answering, AUTH, TLS.

use std::collections::HashSet;
use std::sync::{Arc, Barrier};
use std::time::{Duration as StdDuration, Instant};

use chrono::Duration;
use fedrp::config::CLAIM_WINDOWS_ACCOUNT_NAME;
use fedrp::devidp::token::{self, TokenSpec};

use crate::helpers::*;
use crate::redis_server::RedisServer;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Backend {
    Memory,
    Redis,
}

/// Two nodes (or one, with the memory store) and their Redis.
struct Farm {
    nodes: Vec<TestApp>,
    redis: Option<RedisServer>,
}

impl Farm {
    fn a(&self) -> &TestApp {
        &self.nodes[0]
    }
    fn b(&self) -> &TestApp {
        &self.nodes[self.nodes.len() - 1]
    }
    fn advance(&self, d: Duration) {
        for n in &self.nodes {
            n.clock.advance(d);
        }
    }
}

/// The `store`/`[redis]` head of a node's configuration.
fn redis_head(url: &str, redis_extra: &str) -> String {
    // Generous timeouts (TLS handshakes included): the CI machine runs other test binaries at
    // the same time. The failure tests measure that a refused connection fails fast.
    let timeout = if redis_extra.contains("command_timeout_ms") {
        ""
    } else {
        "command_timeout_ms = 5000\nconnect_timeout_ms = 5000\n"
    };
    format!(
        "store = \"redis\"\n[redis]\nurl = \"{url}\"\n{timeout}key_prefix = \"t:\"\n{redis_extra}\n"
    )
}

fn node(redis: &RedisServer, session: &str, redis_extra: &str) -> TestApp {
    spawn_with(&format!(
        "{}{}",
        redis_head(&redis.url(), redis_extra),
        config_text(session, "")
    ))
}

fn farm(backend: Backend, session: &str) -> Farm {
    match backend {
        Backend::Memory => Farm {
            nodes: vec![spawn_with(&config_text(session, ""))],
            redis: None,
        },
        Backend::Redis => {
            let redis = RedisServer::start(&[]);
            let nodes = vec![node(&redis, session, ""), node(&redis, session, "")];
            Farm {
                nodes,
                redis: Some(redis),
            }
        }
    }
}

const SERVER: &str = "mode = \"server\"";
const COOKIE_MODE: &str = "";

fn user_spec(now: chrono::DateTime<chrono::Utc>, user: &str) -> TokenSpec {
    let mut s = spec(now);
    s.claims[0] = (
        CLAIM_WINDOWS_ACCOUNT_NAME.into(),
        format!("DENALLIX\\{user}"),
    );
    s
}

/// Starts a sign-in on `start`, posts `assertion` (signed XML) with that state to `post`.
fn post_assertion(
    start: &TestApp,
    post: &TestApp,
    jar: &mut Jar,
    assertion: &str,
    spec: &TokenSpec,
) -> Response {
    let (_, wctx) = start.start_signin(jar, "ru=%2Fapp%2F");
    let wresult = token::rstr(assertion, spec, Some(&wctx));
    let r = post.post_form(
        "/signin-wsfed",
        &[("wa", "wsignin1.0"), ("wresult", &wresult), ("wctx", &wctx)],
        jar,
    );
    jar.take(&r);
    r
}

fn sign(spec: &TokenSpec) -> String {
    let a = &idps()[0];
    token::signed_assertion(spec, &a.key, &a.cert).expect("sign")
}

fn me(app: &TestApp, jar: &Jar) -> (u16, Option<String>, Option<String>) {
    let r = app.get("/me", jar);
    let fqn = serde_json::from_slice::<serde_json::Value>(&r.body)
        .ok()
        .and_then(|v| v["fqn"].as_str().map(str::to_owned));
    (r.status, fqn, r.reason().map(str::to_owned))
}

// ---- the behaviour suite (memory and Redis) -------------------------------------------------

fn replay_is_refused_on_every_node(backend: Backend) {
    let f = farm(backend, COOKIE_MODE);
    let s = user_spec(f.a().now(), "alice");
    let assertion = sign(&s);
    let mut jar = Jar::default();
    let r = post_assertion(f.a(), f.a(), &mut jar, &assertion, &s);
    assert_eq!(r.status, 303, "{}", r.text());
    // The same assertion with a fresh state of node B: a replay.
    let mut other = Jar::default();
    post_assertion(f.b(), f.b(), &mut other, &assertion, &s).rejected(403, "tok.replay");
    // A used sign-in state with another (fresh) token on node B: refused too.
    let mut jar2 = Jar::default();
    let (_, wctx) = f.a().start_signin(&mut jar2, "ru=%2Fapp%2F");
    let first = user_spec(f.a().now(), "carol");
    let r = f.a().post_form(
        "/signin-wsfed",
        &[
            ("wa", "wsignin1.0"),
            ("wresult", &wresult(&idps()[0], &first, Some(&wctx))),
            ("wctx", &wctx),
        ],
        &jar2,
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let again = user_spec(f.a().now(), "carol");
    let r = f.b().post_form(
        "/signin-wsfed",
        &[
            ("wa", "wsignin1.0"),
            ("wresult", &wresult(&idps()[0], &again, Some(&wctx))),
            ("wctx", &wctx),
        ],
        &jar2,
    );
    r.rejected(400, "wsf.ctx");
}

#[test]
fn replay_is_refused_on_every_node_memory() {
    replay_is_refused_on_every_node(Backend::Memory);
}

#[test]
fn replay_is_refused_on_every_node_redis() {
    replay_is_refused_on_every_node(Backend::Redis);
}

fn a_session_from_a_works_on_b_and_signout_on_a_ends_it(backend: Backend, mode: &str) {
    let f = farm(backend, mode);
    for (i, path) in [
        "/signout",
        "/signout-cleanup",
        "/signin-wsfed?wa=wsignoutcleanup1.0",
    ]
    .iter()
    .enumerate()
    {
        let user = format!("user{i}");
        let mut jar = Jar::default();
        let r = f.a().sign_in(&mut jar, user_spec(f.a().now(), &user));
        assert_eq!(r.status, 303, "{}", r.text());
        let expected = format!("K2:DENALLIX\\{user}");
        assert_eq!(me(f.b(), &jar).1.as_deref(), Some(expected.as_str()));
        assert_eq!(me(f.a(), &jar).0, 200);
        let captured = jar.clone();
        let r = f.a().get(path, &jar);
        assert!(matches!(r.status, 200 | 302), "{path}: {}", r.status);
        jar.take(&r);
        // The browser's cookie is gone; a captured copy is dead on every node.
        assert_eq!(me(f.b(), &jar).0, 401);
        for n in [f.a(), f.b()] {
            let (status, _, reason) = me(n, &captured);
            assert_eq!(
                (status, reason.as_deref()),
                (401, Some("session.invalid")),
                "{path}"
            );
        }
    }
}

#[test]
fn sessions_and_signout_across_nodes_cookie_memory() {
    a_session_from_a_works_on_b_and_signout_on_a_ends_it(Backend::Memory, COOKIE_MODE);
}

#[test]
fn sessions_and_signout_across_nodes_cookie_redis() {
    a_session_from_a_works_on_b_and_signout_on_a_ends_it(Backend::Redis, COOKIE_MODE);
}

#[test]
fn sessions_and_signout_across_nodes_server_memory() {
    a_session_from_a_works_on_b_and_signout_on_a_ends_it(Backend::Memory, SERVER);
}

#[test]
fn sessions_and_signout_across_nodes_server_redis() {
    a_session_from_a_works_on_b_and_signout_on_a_ends_it(Backend::Redis, SERVER);
}

/// Server-side records live for the idle lifetime and slide on use, never past the absolute
/// one (memory: by the app clock; Redis: by the key's TTL).
fn server_records_slide(backend: Backend) {
    let f = farm(
        backend,
        "mode = \"server\"\nidle_timeout_secs = 120\nabsolute_timeout_secs = 600",
    );
    let mut jar = Jar::default();
    assert_eq!(
        f.a()
            .sign_in(&mut jar, user_spec(f.a().now(), "slide"))
            .status,
        303
    );
    let pttl = |r: &RedisServer| -> i64 {
        let keys = r.keys("t:s:*");
        assert_eq!(keys.len(), 1, "{keys:?}");
        r.cli(&["PTTL", &keys[0]]).unwrap().parse().unwrap()
    };
    if let Some(r) = &f.redis {
        let t = pttl(r);
        assert!((100_000..=120_000).contains(&t), "record TTL {t} ms = idle");
        let keys = r.keys("t:s:*");
        r.cli(&["PEXPIRE", &keys[0], "5000"]).unwrap();
    }
    // 100 s later (past the re-issue threshold): used on B, the record slides.
    f.advance(Duration::seconds(100));
    let r = f.b().get("/me", &jar);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.cookie(COOKIE).is_some(), "re-issued");
    jar.take(&r);
    if let Some(r) = &f.redis {
        let t = pttl(r);
        assert!(
            t > 100_000,
            "record TTL renewed to the idle lifetime, got {t} ms"
        );
    }
    // Memory: the record would have expired at +120 s without the renewal.
    f.advance(Duration::seconds(100));
    assert_eq!(me(f.a(), &jar).0, 200);
}

#[test]
fn server_records_slide_memory() {
    server_records_slide(Backend::Memory);
}

#[test]
fn server_records_slide_redis() {
    server_records_slide(Backend::Redis);
}

/// 1,000 sign-ins at once, each started on one node and finished on the other, then read back
/// on the first: every user gets exactly their own session.
fn thousand_concurrent_signins(backend: Backend) {
    const N: usize = 1000;
    let f = Arc::new(farm(backend, SERVER));
    let now = f.a().now();
    // Signing is the slow part: do it first, on two threads.
    let t = Instant::now();
    let mut signed: Vec<(TokenSpec, String)> = std::thread::scope(|sc| {
        let halves: Vec<_> = (0..2)
            .map(|h| {
                sc.spawn(move || {
                    (h * N / 2..(h + 1) * N / 2)
                        .map(|i| {
                            let s = user_spec(now, &format!("u{i:04}"));
                            let a = sign(&s);
                            (s, a)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        halves.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    eprintln!("signed {N} tokens in {:?}", t.elapsed());
    let barrier = Arc::new(Barrier::new(N));
    let t = Instant::now();
    let handles: Vec<_> = signed
        .drain(..)
        .enumerate()
        .map(|(i, (s, a))| {
            let f = Arc::clone(&f);
            let barrier = Arc::clone(&barrier);
            std::thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn(move || {
                    let (first, second) = if i % 2 == 0 {
                        (f.a(), f.b())
                    } else {
                        (f.b(), f.a())
                    };
                    let mut jar = Jar::default();
                    let (_, wctx) = first.start_signin(&mut jar, "ru=%2Fapp%2F");
                    let wresult = token::rstr(&a, &s, Some(&wctx));
                    barrier.wait();
                    let r = second.post_form(
                        "/signin-wsfed",
                        &[("wa", "wsignin1.0"), ("wresult", &wresult), ("wctx", &wctx)],
                        &jar,
                    );
                    assert_eq!(r.status, 303, "sign-in {i}: {}", r.text());
                    jar.take(&r);
                    let (status, fqn, _) = me(first, &jar);
                    assert_eq!(status, 200, "session {i}");
                    assert_eq!(
                        fqn,
                        Some(format!("K2:DENALLIX\\u{i:04}")),
                        "crossed session"
                    );
                    jar.0.get(COOKIE).cloned().expect("session cookie")
                })
                .expect("thread")
        })
        .collect();
    // Join every thread before judging, so that the farm (and its redis-server) is dropped
    // even when one sign-in failed.
    let results: Vec<_> = handles.into_iter().map(|h| h.join()).collect();
    let failed = results.iter().filter(|r| r.is_err()).count();
    assert_eq!(
        failed, 0,
        "{failed} of {N} sign-ins failed (see the panics above)"
    );
    let cookies: Vec<String> = results.into_iter().map(|r| r.unwrap()).collect();
    eprintln!("{N} concurrent sign-ins + reads in {:?}", t.elapsed());
    let unique: HashSet<&String> = cookies.iter().collect();
    assert_eq!(unique.len(), N, "duplicated sessions");
    if let Some(r) = &f.redis {
        assert_eq!(r.keys("t:s:*").len(), N, "one record per session");
        assert_eq!(r.cli(&["ZCARD", "t:active"]).as_deref(), Some("1000"));
    } else {
        let m = f.a().get("/metrics", &Jar::default()).text();
        assert!(m.contains("fedrp_active_sessions 1000"), "{m}");
    }
}

#[test]
fn thousand_concurrent_signins_memory() {
    thousand_concurrent_signins(Backend::Memory);
}

#[test]
fn thousand_concurrent_signins_redis() {
    thousand_concurrent_signins(Backend::Redis);
}

// ---- Redis failures -------------------------------------------------------------------------

fn poll_ready(app: &TestApp) {
    let deadline = Instant::now() + StdDuration::from_secs(15);
    while app.get("/readyz", &Jar::default()).status != 200 {
        assert!(Instant::now() < deadline, "node did not recover");
        std::thread::sleep(StdDuration::from_millis(50));
    }
}

/// Redis killed mid-run, then restarted empty: sign-ins and server-side sessions fail closed
/// (503 `store.unavailable`, the error page), cookie sessions this node confirmed keep working
/// for `revocation_grace_secs` and no longer, `/readyz` is not ready; then every node recovers
/// by itself. Nothing that should be refused is accepted: not a token used before the loss,
/// not a session signed out before it, not a session the store can no longer vouch for.
#[test]
fn redis_killed_and_restarted() {
    let mut redis = RedisServer::start(&[]);
    let a = node(&redis, COOKIE_MODE, "");
    let b = node(&redis, COOKIE_MODE, "");
    let c = node(&redis, SERVER, "");
    let all = [&a, &b, &c];
    let advance = |d| all.iter().for_each(|n| n.clock.advance(d));
    let now = a.now();
    // u1: cookie session from A, used on B. u2: from A, never seen by B. u3: server-side on C.
    // u4: used on B, then signed out on A and checked again on B.
    let mut jars: Vec<Jar> = Vec::new();
    let s1 = user_spec(now, "u1");
    let a1 = sign(&s1);
    for (i, n) in [&a, &a, &c, &a].into_iter().enumerate() {
        let mut jar = Jar::default();
        let r = if i == 0 {
            post_assertion(n, n, &mut jar, &a1, &s1)
        } else {
            n.sign_in(&mut jar, user_spec(now, &format!("u{}", i + 1)))
        };
        assert_eq!(r.status, 303, "{}", r.text());
        jars.push(jar);
    }
    assert_eq!(me(&b, &jars[0]).0, 200);
    assert_eq!(me(&b, &jars[3]).0, 200);
    let u4_captured = jars[3].clone();
    assert_eq!(a.get("/signout", &jars[3]).status, 302);
    assert_eq!(me(&b, &u4_captured).2.as_deref(), Some("session.invalid"));
    let unused = user_spec(now, "u5");
    let unused_assertion = sign(&unused);

    redis.kill();
    // Sign-in: refused with the error page, whichever node.
    for n in all {
        let mut jar = Jar::default();
        let t = Instant::now();
        let r = post_assertion(n, n, &mut jar, &unused_assertion, &unused);
        r.rejected(503, "store.unavailable");
        assert!(r.text().contains("Sign-in failed"), "{}", r.text());
        assert!(t.elapsed() < StdDuration::from_secs(3), "fails fast");
        assert_eq!(n.get("/readyz", &Jar::default()).status, 503);
    }
    // Server-side session: refused. Cookie session confirmed on B: works there.
    let (status, _, reason) = me(&c, &jars[2]);
    assert_eq!(
        (status, reason.as_deref()),
        (503, Some("store.unavailable"))
    );
    assert_eq!(
        me(&b, &jars[0]).0,
        200,
        "confirmed cookie session keeps working"
    );
    // Not confirmed on B (u2), or known signed out (u4): refused.
    assert_eq!(me(&b, &jars[1]).2.as_deref(), Some("store.unavailable"));
    assert_eq!(me(&b, &u4_captured).2.as_deref(), Some("store.unavailable"));
    // Sign-out cannot be recorded: it fails rather than pretending.
    assert_eq!(a.get("/signout", &jars[0]).status, 503);
    // Past the grace period: refused too.
    advance(Duration::seconds(61));
    assert_eq!(me(&b, &jars[0]).2.as_deref(), Some("store.unavailable"));

    redis.restart();
    for n in all {
        poll_ready(n);
    }
    // The restarted Redis is empty: no session from before vouches for itself any more.
    for (n, jar) in [
        (&b, &jars[0]),
        (&a, &jars[1]),
        (&c, &jars[2]),
        (&b, &u4_captured),
    ] {
        let (status, _, reason) = me(n, jar);
        assert_eq!((status, reason.as_deref()), (401, Some("session.invalid")));
    }
    // Tokens that could have been used before the loss are refused (their records are gone).
    for n in all {
        let mut jar = Jar::default();
        post_assertion(n, n, &mut jar, &a1, &s1).rejected(403, "tok.replay");
        let mut jar = Jar::default();
        post_assertion(n, n, &mut jar, &unused_assertion, &unused).rejected(403, "tok.replay");
    }
    // Fresh tokens sign in again, on every node, once past the clock skew.
    advance(Duration::seconds(301));
    for (i, n) in all.into_iter().enumerate() {
        let mut jar = Jar::default();
        let s = user_spec(n.now(), &format!("after{i}"));
        let assertion = sign(&s);
        let r = post_assertion(n, n, &mut jar, &assertion, &s);
        assert_eq!(r.status, 303, "{}", r.text());
        let other = all[(i + 1) % 3];
        assert_eq!(me(n, &jar).0, 200);
        assert_eq!(me(other, &jar).0, 200);
        let mut again = Jar::default();
        post_assertion(other, other, &mut again, &assertion, &s).rejected(403, "tok.replay");
    }
}

/// A Redis that stops answering (SIGSTOP): requests fail within the command timeout instead of
/// queueing, readiness drops, and everything works again once it answers.
#[test]
fn a_redis_that_stops_answering_fails_fast_and_recovers() {
    let redis = RedisServer::start(&[]);
    let a = node(&redis, SERVER, "command_timeout_ms = 300");
    let mut jar = Jar::default();
    assert_eq!(a.sign_in(&mut jar, user_spec(a.now(), "slow")).status, 303);
    assert_eq!(me(&a, &jar).0, 200);
    redis.pause();
    let t = Instant::now();
    let (status, _, reason) = me(&a, &jar);
    assert_eq!(
        (status, reason.as_deref()),
        (503, Some("store.unavailable"))
    );
    assert_eq!(a.get("/readyz", &Jar::default()).status, 503);
    let mut other = Jar::default();
    a.sign_in(&mut other, user_spec(a.now(), "slow2"))
        .rejected(503, "store.unavailable");
    assert!(
        t.elapsed() < StdDuration::from_secs(3),
        "three requests took {:?}",
        t.elapsed()
    );
    redis.resume();
    poll_ready(&a);
    assert_eq!(me(&a, &jar).0, 200);
}

/// AUTH from `redis.password_file`: the right password works; none or a wrong one is not
/// ready and refuses sign-ins.
#[test]
fn redis_auth_from_a_password_file() {
    let redis = RedisServer::start(&["--requirepass", "s3cret-pw"]);
    let dir = std::env::temp_dir().join(format!("fedrp-redis-auth-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good");
    let bad = dir.join("bad");
    std::fs::write(&good, "s3cret-pw\n").unwrap();
    std::fs::write(&bad, "wrong\n").unwrap();
    let ok = node(
        &redis,
        COOKIE_MODE,
        &format!("password_file = {:?}", good.display().to_string()),
    );
    let mut jar = Jar::default();
    assert_eq!(
        ok.sign_in(&mut jar, user_spec(ok.now(), "auth")).status,
        303
    );
    assert_eq!(me(&ok, &jar).0, 200);
    assert_eq!(ok.get("/readyz", &Jar::default()).status, 200);
    for extra in [
        String::new(),
        format!("password_file = {:?}", bad.display().to_string()),
    ] {
        let n = node(&redis, COOKIE_MODE, &extra);
        assert_eq!(n.get("/readyz", &Jar::default()).status, 503);
        let mut jar = Jar::default();
        n.sign_in(&mut jar, user_spec(n.now(), "noauth"))
            .rejected(503, "store.unavailable");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `rediss://` with the server's CA from `redis.tls_ca_file`.
#[test]
fn redis_over_tls() {
    let redis = RedisServer::start_tls();
    let ca = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("certs/rp-tls.pem");
    let a = node(
        &redis,
        COOKIE_MODE,
        &format!("tls_ca_file = {:?}", ca.display().to_string()),
    );
    let b = node(
        &redis,
        COOKIE_MODE,
        &format!("tls_ca_file = {:?}", ca.display().to_string()),
    );
    let mut jar = Jar::default();
    assert_eq!(a.sign_in(&mut jar, user_spec(a.now(), "tls")).status, 303);
    assert_eq!(me(&b, &jar).0, 200);
    assert_eq!(redis.keys("t:r:*").len(), 2, "token and state records");
    // Without the CA the self-signed server certificate is refused: not ready.
    let c = node(&redis, COOKIE_MODE, "");
    assert_eq!(c.get("/readyz", &Jar::default()).status, 503);
}
