//! `postpress-sim`: the account-connection API simulator as a command.
//!
//! Prints `listening on http://127.0.0.1:PORT` as its first line, then serves until
//! Ctrl-C or SIGTERM. Never prints the API key.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use auth_sim::{Fixture, Simulator};
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

    /// The API key requests must carry in X-API-KEY (default: any non-empty key).
    #[arg(long, env = "POSTPRESS_SIM_API_KEY", hide_env_values = true)]
    api_key: Option<String>,

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
        .trace_requests(args.trace);
    if let Some(key) = args.api_key {
        builder = builder.api_key(key);
    }
    let sim = match builder.start() {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("postpress-sim: {e}");
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

    let waited = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map(|runtime| runtime.block_on(wait_for_signal()));
    if let Err(e) = waited {
        eprintln!("postpress-sim: cannot wait for signals: {e}");
        return ExitCode::FAILURE;
    }
    drop(sim);
    ExitCode::SUCCESS
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
