//! `cargo xtask bench`: each function's release binary, started as Lambda starts it, measured.
//!
//! Per function: binary and Lambda zip size; cold start (process spawn to its first poll of the Runtime API,
//! config parsed and clients built); first invocation (its step against the emulator, audit
//! records included); peak resident memory (VmHWM). Medians over several cold starts, each with a
//! new hire so every invocation does real work. The emulator is local, so invocation times
//! measure our code plus moto, not AWS.

use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use shared::steps::{ONBOARD, Step};

/// Every function, in the order a bench run uses them: a hire through the onboarding flow, the
/// same person's immediate departure, then a sweep.
const ALL: [Step; 7] = [ONBOARD[0], ONBOARD[1], ONBOARD[2], ONBOARD[3], ONBOARD[4], Step::Offboard, Step::Sweep];
use tests::runtime_api::{Answer, RuntimeApi};
use tests::{Account, config, event};

const RUNS: usize = 11;

struct Sample {
    cold_start: Duration,
    invocation: Duration,
    peak_rss_kb: u64,
}

fn main() -> ExitCode {
    let (Some(dir), Some(zips)) =
        (std::env::args().nth(1).map(PathBuf::from), std::env::args().nth(2).map(PathBuf::from))
    else {
        eprintln!("usage: bench-functions <dir with release binaries> <dir with their Lambda zips>");
        return ExitCode::from(2);
    };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    rt.block_on(run(&dir, &zips))
}

async fn run(dir: &Path, zips: &Path) -> ExitCode {
    let acct = Account::new().await;
    let (ctx, _inboxes) = acct.ready(config()).await;
    // As deployed: ARNs in the config, so a cold start makes no lookup call.
    let mut cfg = ctx.cfg.clone();
    cfg.topics.notifications = ctx.targets.notifications_topic_arn.clone();
    cfg.topics.audit = ctx.targets.audit_topic_arn.clone();
    cfg.iam.permissions_boundary = ctx.targets.boundary_arn.clone();
    let toml = toml::to_string(&cfg).expect("config as TOML");

    let mut samples: Vec<Vec<Sample>> = ALL.iter().map(|_| Vec::new()).collect();
    for run in 0..RUNS {
        let hire = json!({"event": event("hire-finance-programmatic.json", json!({
            "eventId": format!("bench-{run}"), "employeeId": format!("B{run}"), "givenName": format!("Bench{run}")
        }))});
        let leave = json!({"event": event("depart-scheduled.json", json!({
            "eventId": format!("bench-leave-{run}"), "employeeId": format!("B{run}"), "immediate": true
        }))});
        let mut state = hire;
        for (i, step) in ALL.iter().enumerate() {
            if *step == Step::Offboard {
                state = leave.clone();
            } else if *step == Step::Sweep {
                state = json!({});
            }
            match measure(&acct, dir, *step, &toml, &state) {
                Ok((sample, output)) => {
                    state[step.state_key()] = output;
                    samples[i].push(sample);
                }
                Err(e) => {
                    eprintln!("{}: {e}", step.name());
                    return ExitCode::FAILURE;
                }
            }
        }
    }

    println!(
        "{:<15} {:>10} {:>10} {:>12} {:>12} {:>14} {:>10}",
        "function", "binary", "zip", "cold start", "(slowest)", "1st invocation", "peak RSS"
    );
    for (step, s) in ALL.iter().zip(&mut samples) {
        let size = std::fs::metadata(dir.join(step.name())).map(|m| m.len()).unwrap_or(0);
        let zip = std::fs::metadata(zips.join(format!("{}.zip", step.name()))).map(|m| m.len()).unwrap_or(0);
        let median = |v: &mut Vec<Duration>| {
            v.sort();
            v[v.len() / 2]
        };
        let mut cold: Vec<Duration> = s.iter().map(|x| x.cold_start).collect();
        let mut inv: Vec<Duration> = s.iter().map(|x| x.invocation).collect();
        let rss = s.iter().map(|x| x.peak_rss_kb).max().unwrap_or(0);
        println!(
            "{:<15} {:>8.1}MB {:>8.1}MB {:>10.1}ms {:>10.1}ms {:>12.1}ms {:>8.1}MB",
            step.name(),
            size as f64 / 1e6,
            zip as f64 / 1e6,
            median(&mut cold).as_secs_f64() * 1e3,
            cold.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
            median(&mut inv).as_secs_f64() * 1e3,
            rss as f64 / 1024.0
        );
    }
    println!(
        "(medians of {RUNS} cold starts, and the slowest; peak RSS is the maximum; release binaries from {})",
        dir.display()
    );
    ExitCode::SUCCESS
}

fn measure(acct: &Account, dir: &Path, step: Step, toml: &str, state: &Value) -> Result<(Sample, Value), String> {
    let api = RuntimeApi::start();
    let started = Instant::now();
    let mut child = api
        .command(&dir.join(step.name()), step.name(), acct.env(), toml)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("spawn: {e}"))?;
    let result = (|| {
        let deadline = started + Duration::from_secs(20);
        let first_poll = loop {
            if let Some(t) = api.first_poll() {
                break t;
            }
            if Instant::now() > deadline {
                return Err("no poll of the Runtime API within 20 s".to_owned());
            }
            std::thread::sleep(Duration::from_micros(200));
        };
        let cold_start = first_poll.duration_since(started);
        let t = Instant::now();
        let answer = api.invoke(state.clone(), Duration::from_secs(60));
        let invocation = t.elapsed();
        let output = match answer {
            Some(Answer::Response(v)) => v,
            other => return Err(format!("{other:?}")),
        };
        let peak_rss_kb = std::fs::read_to_string(format!("/proc/{}/status", child.id()))
            .ok()
            .and_then(|s| {
                s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            })
            .unwrap_or(0);
        Ok((Sample { cold_start, invocation, peak_rss_kb }, output))
    })();
    let _ = child.kill();
    let _ = child.wait();
    result
}
