//! Configuration errors through the binary: exit code 2, each bad field with its key path;
//! check-config prints the effective configuration with secrets redacted.

use std::process::Command;

fn fedrp(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_fedrp"));
    c.args(args).env_remove("FEDRP_CONFIG");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("run fedrp");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn write(name: &str, text: &str) -> String {
    let p = std::env::temp_dir().join(format!("fedrp-cfg-{}-{name}.toml", std::process::id()));
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn bad_configs_exit_2_with_key_paths_and_hints() {
    let p = write(
        "bad",
        "[server]\nlisten = \"x\"\n[session]\nephemeral_key = true\nidle_timeout_secs = \"soon\"\n[[issuers]]\nname = \"a\"\n[[realms]]\nname = \"r\"\nrealm = \"urn:r\"\n",
    );
    let (code, _, err) = fedrp(&["check-config", "--config", &p], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("session.idle_timeout_secs"), "{err}");
    let p = write(
        "typo",
        "[server]\nlisten = \"127.0.0.1:1\"\nlisen = \"x\"\n",
    );
    let (code, _, err) = fedrp(&["check-config", "--config", &p], &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains("server.lisen") && err.contains("did you mean `listen`?"),
        "{err}"
    );
    let p = write(
        "semantic",
        "[server]\nlisten = \"x\"\n[session]\nephemeral_key = true\n[[issuers]]\nname = \"a\"\nentity_id = \"urn:a\"\nsignin_url = \"ftp://x\"\ntrust_files = [\"missing.pem\"]\n[[realms]]\nname = \"r\"\nrealm = \"urn:r\"\nprofile = \"iframe\"\n",
    );
    let (code, _, err) = fedrp(&["check-config", "--config", &p], &[]);
    assert_eq!(code, 2);
    for path in [
        "server.listen",
        "issuers[0].signin_url",
        "issuers[0].trust_files[0]",
        "realms[0].frame_ancestors",
    ] {
        assert!(err.contains(path), "{path} missing in:\n{err}");
    }
    assert!(err.contains("hint:"));
    // Environment overrides are checked the same way.
    let (code, _, err) = fedrp(
        &["check-config"],
        &[("FEDRP__LIMITS__MAX_BODY_BYTES", "\"lots\"")],
    );
    assert_eq!(code, 2);
    assert!(err.contains("limits.max_body_bytes"), "{err}");
}

#[test]
fn check_config_prints_the_effective_config_with_secrets_redacted() {
    let (code, out, err) = fedrp(&["check-config"], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("built-in development setup"));
    assert!(out.contains("[redacted]") && out.contains("ephemeral"));
    assert!(out.contains("sha256") && out.contains("valid"));
    assert!(out.contains("WARNING"));
    let (code, out, _) = fedrp(&["check-config", "--json"], &[]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["realms"][0]["realm"], "urn:fedrp:dev");
    assert!(v["issuers"][0]["keys"][0]["sha256"].as_str().unwrap().len() == 64);
}
