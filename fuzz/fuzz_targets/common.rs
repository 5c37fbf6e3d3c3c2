//! Shared set-up: the repository's fuzz harness, loaded once.

use std::path::PathBuf;
use std::sync::OnceLock;

use fedrp::fuzzing::Harness;

pub fn setup() -> &'static Harness {
    static S: OnceLock<Harness> = OnceLock::new();
    S.get_or_init(|| Harness::load(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")))
}
