//! Prometheus metrics, kept in atomics (no lock on the request path) and rendered in the text
//! exposition format by hand.
//!
//! Metric names: `fedrp_signins_total`, `fedrp_rejections_total{reason}` (labels only from
//! [`Reason::code`]), `fedrp_token_validation_seconds` (histogram), `fedrp_active_sessions`,
//! `fedrp_signouts_total`.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::Reason;

/// Histogram bucket upper bounds, seconds.
const BUCKETS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];

/// The process's metrics.
pub struct Metrics {
    signins: AtomicU64,
    signouts: AtomicU64,
    rejections: Vec<AtomicU64>,
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            signins: AtomicU64::new(0),
            signouts: AtomicU64::new(0),
            rejections: Reason::ALL.iter().map(|_| AtomicU64::new(0)).collect(),
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            count: AtomicU64::new(0),
            sum_micros: AtomicU64::new(0),
        }
    }
}

impl Metrics {
    /// A successful sign-in.
    pub fn signin(&self) {
        self.signins.fetch_add(1, Ordering::Relaxed);
    }

    /// A sign-out or cleanup.
    pub fn signout(&self) {
        self.signouts.fetch_add(1, Ordering::Relaxed);
    }

    /// A rejection with its reason.
    pub fn rejection(&self, reason: Reason) {
        if let Some(i) = Reason::ALL.iter().position(|r| *r == reason) {
            self.rejections[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Rejections counted for `reason`.
    pub fn rejections(&self, reason: Reason) -> u64 {
        Reason::ALL
            .iter()
            .position(|r| *r == reason)
            .map(|i| self.rejections[i].load(Ordering::Relaxed))
            .unwrap_or(0)
    }

    /// One token validation took `d`.
    pub fn validation(&self, d: Duration) {
        let s = d.as_secs_f64();
        for (i, b) in BUCKETS.iter().enumerate() {
            if s <= *b {
                self.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add(d.as_micros() as u64, Ordering::Relaxed);
    }

    /// The text exposition.
    pub fn render(&self, active_sessions: u64) -> String {
        let mut out = String::with_capacity(4096);
        let _ = writeln!(
            out,
            "# HELP fedrp_signins_total Successful sign-ins.\n# TYPE fedrp_signins_total counter"
        );
        let _ = writeln!(
            out,
            "fedrp_signins_total {}",
            self.signins.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP fedrp_signouts_total Sign-outs and sign-out cleanups.\n# TYPE fedrp_signouts_total counter"
        );
        let _ = writeln!(
            out,
            "fedrp_signouts_total {}",
            self.signouts.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP fedrp_rejections_total Rejected requests by reason code.\n# TYPE fedrp_rejections_total counter"
        );
        for (i, r) in Reason::ALL.iter().enumerate() {
            let _ = writeln!(
                out,
                "fedrp_rejections_total{{reason=\"{}\"}} {}",
                r.code(),
                self.rejections[i].load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP fedrp_token_validation_seconds Token validation latency.\n# TYPE fedrp_token_validation_seconds histogram"
        );
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "fedrp_token_validation_seconds_bucket{{le=\"{b}\"}} {}",
                self.buckets[i].load(Ordering::Relaxed)
            );
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "fedrp_token_validation_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            out,
            "fedrp_token_validation_seconds_sum {}",
            self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "fedrp_token_validation_seconds_count {count}");
        let _ = writeln!(
            out,
            "# HELP fedrp_active_sessions Live sessions known to this node.\n# TYPE fedrp_active_sessions gauge"
        );
        let _ = writeln!(out, "fedrp_active_sessions {active_sessions}");
        out
    }
}
