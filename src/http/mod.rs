//! The actix-web relying party: [`Application::build`] binds, wires state, middleware and
//! routes; [`Application::run_until_stopped`] serves. Tests start it on port 0 with a
//! [`FixedClock`].
//!
//! Invariants: token validation runs off the async executor (`web::block`); every rejection
//! goes through [`AppState::reject`] (log with reason code and request id, count, generic page);
//! every response passes [`headers::security_headers`]; only this module knows about HTTP,
//! cookies and forms.

pub mod clock;
pub mod endpoints;
pub mod error;
pub mod form;
pub mod headers;
pub mod pages;
pub mod principal;
pub mod redirect;
pub mod signin;
pub mod signout;
pub mod state;

use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::web::{self, Data};
use actix_web::{App, HttpServer};
use url::Url;

pub use clock::{Clock, FixedClock, SystemClock};
pub use state::AppState;

use crate::config::Config;
use crate::devidp::DevIdp;

/// A bound, ready-to-run server.
pub struct Application {
    port: u16,
    public_url: Url,
    server: Server,
}

/// Registers the relying party's routes (and the co-hosted development IdP's).
pub fn routes(cfg: &mut web::ServiceConfig, dev: Option<Arc<DevIdp>>) {
    cfg.route("/signin", web::get().to(signin::signin_get))
        .route("/signin/probe", web::get().to(signin::probe))
        .route("/signin/handoff", web::to(signin::handoff))
        .route(state::ACS_WSFED, web::get().to(signout::wsfed_get))
        .route(state::ACS_WSFED, web::to(signin::acs_wsfed))
        .route(state::ACS_SAML, web::to(signin::acs_saml))
        .route("/signin-wsfed/{realm}", web::post().to(signin::acs_wsfed))
        .route("/signin-saml/{realm}", web::post().to(signin::acs_saml))
        .route("/signout", web::get().to(signout::signout))
        .route("/signout", web::post().to(signout::signout))
        .route("/signout-cleanup", web::get().to(signout::cleanup))
        .route("/signout-cleanup", web::post().to(signout::cleanup))
        .route("/signed-out", web::get().to(signout::signed_out))
        .route("/me", web::get().to(endpoints::me))
        .route("/auth", web::get().to(endpoints::auth))
        .route(
            "/FederationMetadata/2007-06/FederationMetadata.xml",
            web::get().to(endpoints::metadata),
        )
        .route("/healthz", web::get().to(endpoints::healthz))
        .route("/healthz/trust", web::get().to(endpoints::trust))
        .route("/readyz", web::get().to(endpoints::readyz))
        .route("/metrics", web::get().to(endpoints::metrics));
    if let Some(d) = dev {
        crate::devidp::routes(cfg, d);
    }
    cfg.default_service(web::to(signin::protected));
}

impl Application {
    /// Binds `config.server.listen` and prepares the server. Without `server.public_url`, the
    /// public URL is `http(s)://localhost:<bound port>`.
    pub fn build(config: Config, clock: Arc<dyn Clock>) -> Result<Application, String> {
        let listener = std::net::TcpListener::bind(&config.server.listen)
            .map_err(|e| format!("bind {}: {e}", config.server.listen))?;
        // std listens with a backlog of 128: a burst of sign-ins (a load balancer reconnecting
        // every client at once) would see resets beyond it. actix-web's own default is 2048.
        let listener = {
            let socket = socket2::Socket::from(listener);
            socket
                .listen(2048)
                .map_err(|e| format!("listen {}: {e}", config.server.listen))?;
            std::net::TcpListener::from(socket)
        };
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let scheme = if config.server.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let public_url = match &config.server.public_url {
            Some(u) => u.clone(),
            None => {
                Url::parse(&format!("{scheme}://localhost:{port}/")).map_err(|e| e.to_string())?
            }
        };
        let dev = match &config.dev_idp {
            Some(d) => Some(Arc::new(DevIdp::new(
                d,
                &config,
                vec![public_url.origin().ascii_serialization()],
                Arc::clone(&clock),
            )?)),
            None => None,
        };
        let workers = config.server.workers;
        let tls = config.server.tls.clone();
        let state = Data::new(AppState::new(config, public_url.clone(), clock)?);
        state.trust.spawn();
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .wrap(from_fn(headers::security_headers))
                .configure(|c| routes(c, dev.clone()))
        })
        .shutdown_timeout(5);
        if workers > 0 {
            server = server.workers(workers);
        }
        let server = match tls {
            Some((cert, key)) => {
                let mut b = openssl::ssl::SslAcceptor::mozilla_intermediate_v5(
                    openssl::ssl::SslMethod::tls(),
                )
                .map_err(|e| e.to_string())?;
                b.set_private_key_file(&key, openssl::ssl::SslFiletype::PEM)
                    .map_err(|e| format!("{}: {e}", key.display()))?;
                b.set_certificate_chain_file(&cert)
                    .map_err(|e| format!("{}: {e}", cert.display()))?;
                server
                    .listen_openssl(listener, b)
                    .map_err(|e| e.to_string())?
            }
            None => server.listen(listener).map_err(|e| e.to_string())?,
        };
        Ok(Application {
            port,
            public_url,
            server: server.run(),
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The public base URL.
    pub fn public_url(&self) -> &Url {
        &self.public_url
    }

    /// Serves until the server stops (signal or handle).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }

    /// A handle to stop the server.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }
}
