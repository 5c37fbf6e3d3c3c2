//! `fedrp decode-claim`.

use crate::cli::DecodeClaimArgs;

/// Runs `fedrp decode-claim`; returns the process exit code.
pub fn decode_claim(args: &DecodeClaimArgs) -> u8 {
    let _ = args;
    2
}
