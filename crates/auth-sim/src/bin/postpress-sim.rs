//! `postpress-sim`: the account-connection API simulator as a command.
//!
//! Prints `listening on http://127.0.0.1:PORT` as its first line, then serves until
//! Ctrl-C or SIGTERM. Never prints an API key or a password.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use auth_sim::{ErrorEnvelope, Fixture, Simulator};
use clap::Parser;

/// A local simulator of the postpress / Unipile account-connection API.
///
/// Serves both path styles: http://127.0.0.1:PORT/v1/accounts… (postpress) and
/// http://127.0.0.1:PORT/api/v1/accounts… (Unipile).
#[derive(Debug, Parser)]
#[command(name = "postpress-sim", version)]
struct Args {
    /// Port on 127.0.0.1 (0: any free port; the first line of output tells which).
    #[arg(long, default_value_t = 0)]
    port: u16,

    /// A valid API key, sent in X-API-KEY or as Authorization: Bearer (repeat the flag,
    /// or separate keys with commas in the variable, for several keys; default: any
    /// non-empty key). Other keys answer 401 errors/invalid_credentials.
    #[arg(
        long = "api-key",
        value_name = "KEY",
        env = "POSTPRESS_SIM_API_KEY",
        hide_env_values = true,
        value_delimiter = ','
    )]
    api_keys: Vec<String>,

    /// The shape of error bodies: `endpoint` ({"status","type","title","detail","instance"})
    /// or `quickstart` ({"error":{"code","message","request_id"}}).
    #[arg(long, value_name = "SHAPE", default_value = "endpoint", value_parser = parse_envelope)]
    error_envelope: ErrorEnvelope,

    /// A token bucket per API key: this many requests a second (default: no limit).
    #[arg(long, value_name = "PER_SECOND")]
    rate_limit: Option<f64>,

    /// The bucket's size for --rate-limit (default: the rate, rounded up).
    #[arg(long, value_name = "REQUESTS", requires = "rate_limit")]
    rate_burst: Option<u32>,

    /// How long a connected account reports CONNECTING in GET /accounts/{id}.
    #[arg(long, value_name = "MS", default_value_t = 200)]
    connecting_ms: u64,

    /// Requests in flight at once on one HTTP/2 connection (HTTP/1.1 carries one).
    #[arg(long, value_name = "STREAMS", default_value_t = 256)]
    max_streams_per_connection: u32,

    /// Lifetime of an authentication intent, in seconds, from its 202.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    ttl: u64,

    /// The accounts, as the fixture JSON of api-contract.md (default: the demo accounts
    /// alice, bob, carol and dave).
    #[arg(long, value_name = "FILE")]
    accounts: Option<PathBuf>,

    /// Print one line per answered request on stderr (method, path, status).
    #[arg(long)]
    trace: bool,
}

fn parse_envelope(name: &str) -> Result<ErrorEnvelope, String> {
    ErrorEnvelope::parse(name).ok_or_else(|| format!("`{name}` is not `endpoint` or `quickstart`"))
}

fn main() -> ExitCode {
    let args = Args::parse();
    let fixture = match &args.accounts {
        Some(path) => match Fixture::from_file(path) {
            Ok(fixture) => fixture,
            Err(e) => {
                eprintln!("postpress-sim: {e}");
                return ExitCode::from(2);
            }
        },
        None => Fixture::demo(),
    };
    if args.ttl == 0 {
        eprintln!("postpress-sim: --ttl must be at least 1 second");
        return ExitCode::from(2);
    }
    let accounts = fixture.accounts().len();
    let mut builder = Simulator::builder()
        .port(args.port)
        .intent_ttl(Duration::from_secs(args.ttl))
        .fixture(fixture)
        .error_envelope(args.error_envelope)
        .account_connecting_for(Duration::from_millis(args.connecting_ms))
        .max_streams_per_connection(args.max_streams_per_connection)
        .api_keys(args.api_keys.into_iter().filter(|k| !k.is_empty()))
        .trace_requests(args.trace);
    if let Some(rate) = args.rate_limit {
        let burst = args.rate_burst.unwrap_or_else(|| {
            if rate.is_finite() && rate >= 1.0 {
                rate.ceil().min(f64::from(u32::MAX)) as u32
            } else {
                1
            }
        });
        builder = builder.rate_limit(rate, burst);
    }
    let sim = match builder.start() {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("postpress-sim: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The signals are listened for before the first line says the simulator is up: a
    // caller may send one as soon as it reads that line.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
    let signals = runtime.and_then(|runtime| {
        runtime
            .block_on(async { Signals::listen() })
            .map(|signals| (runtime, signals))
    });
    let (runtime, signals) = match signals {
        Ok(listening) => listening,
        Err(e) => {
            eprintln!("postpress-sim: cannot wait for signals: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "listening on {}", sim.origin());
    let _ = stdout.flush();
    drop(stdout);
    eprintln!(
        "postpress-sim: {accounts} accounts; postpress base URL {}, Unipile base URL {}",
        sim.base_url(),
        sim.unipile_base_url()
    );
    runtime.block_on(signals.first());
    drop(sim);
    ExitCode::SUCCESS
}

/// Ctrl-C and SIGTERM, listened for from the moment this is made.
#[cfg(unix)]
struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Signals {
    /// Starts listening (inside a runtime).
    fn listen() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    /// Waits for the first of them.
    async fn first(mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}

/// Ctrl-C, listened for once waited on.
#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn listen() -> std::io::Result<Self> {
        Ok(Self)
    }

    async fn first(self) {
        let _ = tokio::signal::ctrl_c().await;
    }
}
