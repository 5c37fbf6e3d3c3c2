//! HTTP tests of the relying party: one binary, the real `Application` on port 0 with a fixed
//! clock (see `helpers`). Every negative test asserts the status and the reason code
//! (`X-Fedrp-Reason`, enabled by `server.expose_reason_header` in the test configuration).
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bench;
mod checks;
mod config;
mod cookies;
mod devidp;
mod endpoints;
mod farm;
mod fixtures;
mod helpers;
mod iframe;
mod redis_server;
mod rollover;
mod signin;
mod signout;
mod tls;
