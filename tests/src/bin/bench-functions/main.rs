//! `cargo xtask bench`: each function's release binary, started as Lambda starts it, measured.
//!
//! Per function: binary and Lambda zip size; cold start (process spawn to its first poll of the Runtime API,
//! config parsed and clients built); first invocation (its step against the emulator, audit
//! records included); peak resident memory (VmHWM). Medians over several cold starts, each with a
//! new hire so every invocation does real work; the intake's invocation is a signed webhook it
//! verifies, dedupes and puts on a bus; the reviews function's, a reviewer's page (its cold start
//! reads the review key). Then `onboarding serve` (release) under 1,000 signed
//! requests from 16 clients: requests per second, answer latency, and the drain after SIGTERM.
//! The emulator is local, so invocation times measure our code plus moto, not AWS.

mod calls;
mod identity_center;
mod intake;
mod reviews;
mod scale;

use calls::calls;
use identity_center::{identity_center_at_its_limit, identity_center_functions};
use intake::{intake_setup, serve_load, signed_request};
use reviews::reviews_function;
use scale::scale;

use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use shared::flow::{Flow, Step};

/// Every function, in the order a bench run uses them: a hire through the onboarding flow, the
/// same person's immediate departure, then a sweep.
/// Every deployed flow's steps, once each (onboard and change share theirs).
fn all_steps() -> Vec<Step> {
    let mut all: Vec<Step> = Vec::new();
    for step in Flow::ALL.iter().flat_map(|f| f.steps()) {
        if !all.contains(step) {
            all.push(*step);
        }
    }
    all
}
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
    // `BENCH_ONLY=identity-center`: that section alone (to measure it without the rest).
    if std::env::var("BENCH_ONLY").as_deref() == Ok("identity-center") {
        return match identity_center_at_its_limit(dir).await {
            Ok(line) => {
                println!("{line}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("identity center: {e}");
                ExitCode::FAILURE
            }
        };
    }
    // `BENCH_ONLY=identity-center-functions`: the step functions on Identity Center alone.
    if std::env::var("BENCH_ONLY").as_deref() == Ok("identity-center-functions") {
        return match identity_center_functions(dir).await {
            Ok(mut samples) => {
                let names: Vec<&str> = all_steps().into_iter().map(|s| s.name()).collect();
                print_table(dir, zips, &names, &mut samples);
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("identity center functions: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let acct = Account::new().await;
    let (ctx, _inboxes) = acct.ready(config()).await;
    // As deployed: ARNs in the config, so a cold start makes no lookup call.
    let mut cfg = ctx.cfg.clone();
    cfg.topics.notifications = ctx.targets.notifications_topic_arn.clone();
    cfg.topics.audit = ctx.targets.audit_topic_arn.clone();
    cfg.iam.permissions_boundary = ctx.targets.boundary_arn.clone();
    cfg.iam.role_sessions_boundary = ctx.targets.role_sessions_boundary_arn.clone();
    // The bench disables a dozen people within the guard's window on purpose (a leaver per
    // cold-start run, then the calls' departure): the guard across executions is not what it measures.
    cfg.lifecycle.max_disables = 1_000;
    let toml = toml::to_string(&cfg).expect("config as TOML");

    // `BENCH_ONLY=calls`, `scale`, `serve` or `reviews`: that part alone (a quick loop while working on it).
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    if only == "reviews" {
        return match reviews_function(&acct, &ctx, dir, &cfg).await {
            Ok(samples) => {
                print_table(dir, zips, &["reviews"], &mut [samples]);
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("reviews: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let part = match only.as_str() {
        "scale" => Some(scale(dir).await.map(|line| vec![line])),
        "calls" => Some(calls(&acct, &ctx, dir, &toml).await),
        "serve" => Some(serve_load(&acct, dir, &toml).map(|line| vec![line])),
        _ => None,
    };
    if let Some(result) = part {
        return match result {
            Ok(lines) => {
                lines.iter().for_each(|l| println!("{l}"));
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{only}: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let intake_toml = intake_setup(&acct, &cfg).await;
    let all = all_steps();
    let mut samples: Vec<Vec<Sample>> = all.iter().map(|_| Vec::new()).collect();
    let mut intake_samples = Vec::new();
    for run in 0..RUNS {
        let hire = json!({"event": event("hire-finance-programmatic.json", json!({
            "eventId": format!("bench-{run}"), "employeeId": format!("B{run}"), "givenName": format!("Bench{run}")
        }))});
        let leave = json!({"event": event("depart-scheduled.json", json!({
            "eventId": format!("bench-leave-{run}"), "employeeId": format!("B{run}"), "immediate": true
        }))});
        let mut state = hire;
        for (i, step) in all.iter().enumerate() {
            if *step == Step::Offboard {
                state = leave.clone();
            } else if *step == Step::Sweep {
                state = json!({});
            }
            match measure(&acct, dir, step.name(), &toml, &state) {
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
        match measure(&acct, dir, "intake", &intake_toml, &signed_request(&format!("bench-{run}"))) {
            Ok((sample, output)) if output["statusCode"] == 202 => intake_samples.push(sample),
            Ok((_, output)) => {
                eprintln!("intake answered {output}");
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("intake: {e}");
                return ExitCode::FAILURE;
            }
        }
    }

    let reviews_samples = match reviews_function(&acct, &ctx, dir, &cfg).await {
        Ok(samples) => samples,
        Err(e) => {
            eprintln!("reviews: {e}");
            return ExitCode::FAILURE;
        }
    };
    let names: Vec<&str> = all_steps().into_iter().map(|s| s.name()).chain(["intake", "reviews"]).collect();
    samples.push(intake_samples);
    samples.push(reviews_samples);
    print_table(dir, zips, &names, &mut samples);
    match identity_center_functions(dir).await {
        Ok(mut samples) => {
            println!(
                "\nThe same step functions with Target identity-center (instance and store named, as the stack does):"
            );
            let names: Vec<&str> = all_steps().into_iter().map(|s| s.name()).collect();
            print_table(dir, zips, &names, &mut samples);
        }
        Err(e) => {
            eprintln!("identity center functions: {e}");
            return ExitCode::FAILURE;
        }
    }
    match serve_load(&acct, dir, &toml) {
        Ok(line) => println!("\n{line}"),
        Err(e) => {
            eprintln!("onboarding serve: {e}");
            return ExitCode::FAILURE;
        }
    }
    match calls(&acct, &ctx, dir, &toml).await {
        Ok(lines) => {
            println!();
            lines.iter().for_each(|l| println!("{l}"));
        }
        Err(e) => {
            eprintln!("calls: {e}");
            return ExitCode::FAILURE;
        }
    }
    match scale(dir).await {
        Ok(line) => println!("\n{line}"),
        Err(e) => {
            eprintln!("scale: {e}");
            return ExitCode::FAILURE;
        }
    }
    match identity_center_at_its_limit(dir).await {
        Ok(line) => println!("\n{line}"),
        Err(e) => {
            eprintln!("identity center: {e}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

/// Size, cold start, first invocation and peak memory per function, one line each.
fn print_table(dir: &Path, zips: &Path, names: &[&str], samples: &mut [Vec<Sample>]) {
    println!(
        "{:<15} {:>10} {:>10} {:>12} {:>12} {:>14} {:>10}",
        "function", "binary", "zip", "cold start", "(slowest)", "1st invocation", "peak RSS"
    );
    for (name, s) in names.iter().zip(samples.iter_mut()) {
        let size = std::fs::metadata(dir.join(name)).map(|m| m.len()).unwrap_or(0);
        let zip = std::fs::metadata(zips.join(format!("{name}.zip"))).map(|m| m.len()).unwrap_or(0);
        let median = |v: &mut Vec<Duration>| {
            v.sort();
            v[v.len() / 2]
        };
        let mut cold: Vec<Duration> = s.iter().map(|x| x.cold_start).collect();
        let mut inv: Vec<Duration> = s.iter().map(|x| x.invocation).collect();
        let rss = s.iter().map(|x| x.peak_rss_kb).max().unwrap_or(0);
        println!(
            "{:<15} {:>8.1}MB {:>8.1}MB {:>10.1}ms {:>10.1}ms {:>12.1}ms {:>8.1}MB",
            name,
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
}

/// Three letters that differ for every `i` below 26³: a family name per bench hire.
fn letters(i: usize) -> String {
    (0..3).map(|d| (b'a' + (i / 26usize.pow(d) % 26) as u8) as char).collect()
}

/// `hires` Engineering hires as JSON Lines in `scratch/hires.jsonl`: event ids `{prefix}-{i}`,
/// employee ids `{employee}{i:05}`.
fn hires_file(scratch: &Path, hires: usize, prefix: &str, employee: &str) -> Result<PathBuf, String> {
    let events: Vec<String> = (0..hires)
        .map(|i| {
            let overrides = json!({
                "eventId": format!("{prefix}-{i}"), "employeeId": format!("{employee}{i:05}"),
                "givenName": "Sam", "familyName": format!("Scale{}", letters(i))
            });
            event("hire-engineering.json", overrides).to_string()
        })
        .collect();
    let file = scratch.join("hires.jsonl");
    std::fs::write(&file, events.join("\n")).map_err(|e| e.to_string())?;
    Ok(file)
}

fn measure(acct: &Account, dir: &Path, name: &str, toml: &str, state: &Value) -> Result<(Sample, Value), String> {
    let api = RuntimeApi::start();
    let started = Instant::now();
    let mut child = api
        .command(&dir.join(name), name, acct.env(), toml)
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
