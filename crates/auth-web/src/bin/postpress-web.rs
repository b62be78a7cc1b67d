//! `postpress-web`: the Messenger connection form as a standalone server.
//!
//! ```sh
//! postpress-web --sim                                   # the whole form, no key, no network
//! postpress-web --api-key pp_live_… --store redis://127.0.0.1:6379/0
//! ```
//!
//! The first line of standard output is `listening on http://HOST:PORT`. It stops on Ctrl-C
//! or SIGTERM, after the requests in progress.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use auth_web::{AnyStore, CookieSecurity, FormConfig};
use clap::Parser;

/// The Messenger connection form, self-hosted.
#[derive(Debug, Parser)]
#[command(name = "postpress-web", version, about)]
struct Args {
    /// The address to listen on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The API's base URL.
    #[arg(long, env = "POSTPRESS_BASE_URL", default_value = auth_core::POSTPRESS_BASE_URL)]
    base_url: String,
    /// The API key (never printed nor stored).
    #[arg(long, env = "POSTPRESS_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// Where pending intents are kept: `sqlite:PATH` (one file that survives restarts),
    /// `redis://HOST:PORT/DB` (several instances), or `memory`.
    #[arg(long, default_value = "sqlite:postpress-web.sqlite3")]
    store: String,
    /// How long an authentication intent lives, in seconds (the server's is 300).
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    intent_ttl: u64,
    /// How long one API request may take, in seconds.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3_600))]
    timeout: u64,
    /// How long a request in flight holds its record before another instance may take it
    /// over, in milliseconds (renewed while the request runs): at least the timeout, which
    /// is the default.
    #[arg(long, value_parser = clap::value_parser!(u64).range(100..=3_600_000))]
    lease_ms: Option<u64>,
    /// Where the browser goes once the account is connected.
    #[arg(long)]
    success_url: Option<String>,
    /// `Secure` cookies: `auto` (over https, and on any host but loopback), `always` or
    /// `never`.
    #[arg(long, default_value = "auto", value_parser = ["auto", "always", "never"])]
    secure_cookies: String,
    /// Trust `X-Forwarded-For` and `X-Forwarded-Proto` (behind a proxy that sets them).
    /// Needed behind an https proxy on the same machine: its requests look like loopback,
    /// and `--secure-cookies auto` leaves out `Secure` unless the proxy says https.
    #[arg(long)]
    trust_forwarded: bool,
    /// Connect attempts allowed per IP address (an IPv6 /64 counts as one) per minute.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    connects_per_minute: u32,
    /// How much to log on standard error: error, warn, info, debug or trace (no level logs a
    /// password, a code or the API key).
    #[arg(long, env = "POSTPRESS_WEB_LOG", default_value = "info")]
    log_level: tracing::Level,
    /// Start the embedded simulator with its demo accounts (alice, bob, carol, dave) and
    /// point the form at it: no key and no network needed.
    #[arg(long)]
    sim: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(args.log_level)
        .with_target(false)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("postpress-web: cannot start: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("postpress-web: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    // The simulator runs on its own thread; it stops when this handle is dropped.
    let (simulator, base_url, api_key) = if args.sim {
        let sim = auth_sim::Simulator::builder()
            .api_key("pp_test_postpress_web_demo")
            .start()
            .map_err(|e| format!("cannot start the simulator: {e}"))?;
        let base = sim.base_url();
        eprintln!(
            "postpress-web: simulator on {base}; demo accounts: alice/pw-a (no checkpoint), bob/pw-b (2FA 123456), \
             carol/pw-c (approve in the app), dave/pw-d (2FA 111111, then OTP 222222)"
        );
        (Some(sim), base, "pp_test_postpress_web_demo".to_owned())
    } else {
        let key = args
            .api_key
            .clone()
            .filter(|key| !key.is_empty())
            .ok_or("an API key is needed: --api-key or POSTPRESS_API_KEY (or --sim for the simulator)")?;
        (None, args.base_url.clone(), key)
    };

    let mut config = FormConfig::new(api_key)
        .base_url(base_url)
        .intent_ttl(Duration::from_secs(args.intent_ttl))
        .request_timeout(Duration::from_secs(args.timeout))
        .connects_per_ip(args.connects_per_minute, Duration::from_secs(60))
        .trust_forwarded_headers(args.trust_forwarded)
        .cookie_security(match args.secure_cookies.as_str() {
            "always" => CookieSecurity::Always,
            "never" => CookieSecurity::Never,
            _ => CookieSecurity::Auto,
        });
    if let Some(lease) = args.lease_ms {
        config = config.lease(Duration::from_millis(lease));
    }
    if let Some(url) = args.success_url {
        config = config.success_url(url);
    }
    config.check().map_err(|e| e.to_string())?;
    let store = AnyStore::open(&args.store)
        .await
        .map_err(|e| format!("cannot open the store {}: {e}", store_name(&args.store)))?;

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    // Listened for before the first line says the form is up: a caller may send a signal as
    // soon as it reads that line.
    let stop = stop_signal().map_err(|e| format!("cannot wait for signals: {e}"))?;
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "listening on http://{addr}").map_err(|e| e.to_string())?;
        stdout.flush().map_err(|e| e.to_string())?;
    }
    let app = auth_web::router(config, store);
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(stop)
        .await
        .map_err(|e| e.to_string())?;
    drop(simulator);
    eprintln!("postpress-web: stopped");
    Ok(())
}

/// The store's URL without any password in it, for messages.
fn store_name(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!(
            "{}://…{}",
            url.get(..scheme).unwrap_or_default(),
            url.get(at..).unwrap_or_default()
        ),
        _ => url.to_owned(),
    }
}

/// Ctrl-C or SIGTERM, listened for from the moment this returns (inside the runtime).
#[cfg(unix)]
fn stop_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

/// Ctrl-C, listened for once waited on.
#[cfg(not(unix))]
fn stop_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
