//! `onboarding`: argument parsing and logging set-up only; see the library.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = match onboarding::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { onboarding::EXIT_USAGE } else { onboarding::EXIT_OK });
        }
    };
    // Logs go to stderr (results to stdout); RUST_LOG overrides the default level.
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("error"));
    let json = std::env::var("ONBOARDING_LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal());
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr();
    ExitCode::from(onboarding::run(cli, &mut out, &mut err).await)
}
