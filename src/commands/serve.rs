//! `fedrp serve`, `fedrp check-config` and `fedrp dev-idp`: load the configuration, set up
//! logging, run the server.

use std::sync::Arc;

use crate::cli::{ConfigArgs, DevIdpArgs, ServeArgs};
use crate::config::{Config, LogFormat, report};
use crate::http::{Application, SystemClock};
use crate::refresh::TrustManager;

fn load(path: Option<&std::path::Path>, listen: Option<&str>) -> Result<Config, u8> {
    let mut env = Config::env_overrides();
    if let Some(l) = listen {
        env.push(("FEDRP__SERVER__LISTEN".into(), format!("\"{l}\"")));
    }
    Config::load(path, &env).map_err(|e| {
        eprintln!(
            "fedrp: configuration errors in {}:",
            path.map(|p| p.display().to_string())
                .unwrap_or_else(|| "the built-in development setup".into())
        );
        for err in &e.0 {
            eprintln!("  {err}");
        }
        2
    })
}

/// Runs `fedrp serve`; returns the exit code.
pub fn run(args: &ServeArgs) -> u8 {
    let config = match load(args.config.as_deref(), args.listen.as_deref()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    crate::telemetry::init(config.server.log_format);
    for w in &config.warnings {
        tracing::warn!("{w}");
    }
    let dev = config.dev_idp.is_some();
    let builtin = config.is_builtin_dev();
    let landing = config
        .realms
        .first()
        .map(|r| r.landing_path.clone())
        .unwrap_or_else(|| "/".into());
    let result = actix_web::rt::System::new().block_on(async move {
        let app = Application::build(config, Arc::new(SystemClock))?;
        let url = app.public_url().join(&landing).map(|u| u.to_string()).unwrap_or_default();
        if dev {
            eprintln!("\n  !! {}\n", crate::devidp::WARNING);
        }
        if builtin {
            eprintln!("  fedrp development setup (no --config): sign in as a test user, e.g. DENALLIX\\bob");
        }
        eprintln!("  fedrp is listening on port {}. Open {url}\n", app.port());
        app.run_until_stopped().await.map_err(|e| e.to_string())
    });
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("fedrp: {e}");
            1
        }
    }
}

/// Runs `fedrp check-config`; 0 valid, 2 invalid (including an issuer left without any
/// trusted key). Metadata URLs are fetched (not with `--offline`) exactly as at start-up, so
/// the trust section shows what `serve` would trust now; nothing is written but the backing
/// files a good fetch refreshes.
pub fn check_config(args: &ConfigArgs) -> u8 {
    let config = match load(args.config.as_deref(), None) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let trust = TrustManager::new(&config, Arc::new(SystemClock), !args.offline);
    let status = trust.status_json();
    let errors = trust.startup_errors();
    if args.json {
        let mut j = report::to_json(&config);
        j["trust"] = status;
        j["trust_errors"] = serde_json::json!(errors);
        println!("{j}");
    } else {
        print!("{}", report::to_text(&config));
        print!("{}", crate::refresh::status_text(&status));
        for e in &errors {
            println!("  ERROR: {e}");
        }
    }
    if errors.is_empty() { 0 } else { 2 }
}

/// Runs `fedrp dev-idp`: the development IdP alone.
pub fn dev_idp(args: &DevIdpArgs) -> u8 {
    let config = match load(args.config.as_deref(), None) {
        Ok(c) => c,
        Err(code) => return code,
    };
    crate::telemetry::init(LogFormat::Text);
    eprintln!("\n  !! {}\n", crate::devidp::WARNING);
    match actix_web::rt::System::new().block_on(crate::devidp::run_standalone(config)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("fedrp dev-idp: {e}");
            1
        }
    }
}
