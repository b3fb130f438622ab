//! The `onboarding` operator CLI: bootstrap an account, plan and run HR events through the same
//! step code the Lambdas run, in process.

use std::io::{Read, Write};
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use shared::aws::{self, Aws};
use shared::config::Config;
use shared::pipeline::{self, EventOutcome};
use shared::steps::{Ctx, Targets};

pub mod bootstrap;
pub mod input;
pub mod render;

/// Exit codes.
pub const EXIT_OK: u8 = 0;
pub const EXIT_EVENT_FAILED: u8 = 1;
pub const EXIT_USAGE: u8 = 2;

#[derive(Debug, Parser)]
#[command(name = "onboarding", version, about = "Employee lifecycle on AWS IAM: onboard new hires from HR events")]
pub struct Cli {
    /// Configuration file.
    #[arg(long, global = true, default_value = "onboarding.toml")]
    pub config: PathBuf,
    /// Result format on stdout.
    #[arg(long, global = true, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create what the config names in the target account (topics, boundary, groups, policies).
    Bootstrap,
    /// Dry run: show per event what would be created or changed; changes nothing.
    Plan {
        /// Files with one event, a JSON array, or JSON Lines; `-` for stdin.
        #[arg(required = true)]
        files: Vec<String>,
    },
    /// Process each event through every step.
    Run {
        /// Files with one event, a JSON array, or JSON Lines; `-` for stdin.
        #[arg(required = true)]
        files: Vec<String>,
    },
}

/// Runs the CLI; returns the process exit code. Results go to `out`; problems that stop the
/// whole run go to `err`. Logs go to stderr through `tracing`.
pub async fn run(cli: Cli, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let cfg = match Config::load(&cli.config) {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return EXIT_USAGE;
        }
    };
    // Read every input before touching AWS: an unreadable file is a usage error.
    let inputs = match &cli.command {
        Command::Bootstrap => Vec::new(),
        Command::Plan { files } | Command::Run { files } => match read_inputs(files) {
            Ok(i) => i,
            Err(e) => {
                let _ = writeln!(err, "error: {e}");
                return EXIT_USAGE;
            }
        },
    };
    let sdk = aws::load_sdk_config(&cfg).await;
    let clients = Aws::new(&sdk, cfg.retry_policy());

    if let Command::Bootstrap = cli.command {
        return match bootstrap::bootstrap(&cfg, &clients).await {
            Ok(items) => {
                render::bootstrap(out, cli.output, &items);
                EXIT_OK
            }
            Err(e) => {
                let _ = writeln!(err, "error: bootstrap failed: {e}");
                EXIT_EVENT_FAILED
            }
        };
    }
    let targets = match Targets::resolve(&cfg, &clients).await {
        Ok(t) => t,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return EXIT_USAGE;
        }
    };
    let dry_run = matches!(cli.command, Command::Plan { .. });
    let ctx = Ctx { cfg, aws: clients, targets, dry_run };
    let mut failed = false;
    for entry in inputs {
        let report = match entry {
            Ok(event) => pipeline::onboard(&ctx, &event).await,
            Err(e) => pipeline::unreadable(&ctx, e).await,
        };
        failed |= report.outcome == EventOutcome::Failed;
        render::report(out, cli.output, &report);
    }
    if failed { EXIT_EVENT_FAILED } else { EXIT_OK }
}

fn read_inputs(files: &[String]) -> Result<Vec<input::Entry>, String> {
    let mut all = Vec::new();
    for f in files {
        let text = if f == "-" {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s).map_err(|e| format!("cannot read stdin: {e}"))?;
            s
        } else {
            std::fs::read_to_string(f).map_err(|e| format!("cannot read {f}: {e}"))?
        };
        all.extend(input::entries(if f == "-" { "stdin" } else { f }, &text));
    }
    Ok(all)
}
