//! `cargo xtask bench`: each function's release binary, started as Lambda starts it, measured.
//!
//! Per function: binary and Lambda zip size; cold start (process spawn to its first poll of the Runtime API,
//! config parsed and clients built); first invocation (its step against the emulator, audit
//! records included); peak resident memory (VmHWM). Medians over several cold starts, each with a
//! new hire so every invocation does real work; the intake's invocation is a signed webhook it
//! verifies, dedupes and puts on a bus. Then `onboarding serve` (release) under 1,000 signed
//! requests from 16 clients: requests per second, answer latency, and the drain after SIGTERM.
//! The emulator is local, so invocation times measure our code plus moto, not AWS.

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

    // `BENCH_ONLY=calls`, `scale` or `serve`: that part alone (a quick loop while working on it).
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
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

    let names: Vec<&str> = all_steps().into_iter().map(|s| s.name()).chain(["intake"]).collect();
    samples.push(intake_samples);
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

/// The step functions on Identity Center, as the stack with `Target` identity-center runs them:
/// the shipped config with the shipped sample, the instance and store and the topics' ARNs named
/// (so a cold start makes no call), after a release `onboarding bootstrap`. Each run is a hire
/// through the onboarding functions, the same person's immediate departure, then a sweep,
/// [`RUNS`] times; the samples per function, in [`all_steps`] order.
async fn identity_center_functions(dir: &Path) -> Result<Vec<Vec<Sample>>, String> {
    let acct = Account::new().await;
    let read = |f: &str| std::fs::read_to_string(tests::root().join(f)).map_err(|e| format!("{f}: {e}"));
    let text = format!("{}\n{}", read("onboarding.toml")?, read("onboarding.identity-center.toml")?);
    let config = tests::scratch().join(format!("bench-ic-functions-{}.toml", acct.id));
    std::fs::write(&config, &text).map_err(|e| e.to_string())?;
    let out = acct
        .command(dir.join("onboarding"))
        .arg("--config")
        .arg(&config)
        .arg("bootstrap")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("onboarding bootstrap: {e}"))?;
    if !out.status.success() {
        return Err(format!("onboarding bootstrap: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let instances = acct.sso_admin().list_instances().send().await.map_err(|e| e.to_string())?;
    let i = &instances.instances()[0];
    let (instance, store) = (i.instance_arn().unwrap_or_default(), i.identity_store_id().unwrap_or_default());
    let topics = acct.sns().list_topics().send().await.map_err(|e| e.to_string())?;
    let mut toml = text.replace(
        "[identity_center]\n",
        &format!("[identity_center]\ninstance_arn = \"{instance}\"\nidentity_store_id = \"{store}\"\n"),
    );
    for arn in topics.topics().iter().filter_map(|t| t.topic_arn()) {
        let name = arn.rsplit(':').next().unwrap_or_default();
        toml = toml.replace(&format!("\"{name}\""), &format!("\"{arn}\""));
    }
    // As in the IAM part: a departure per run within the guard's window is the bench's doing.
    toml = toml.replace("max_disables = 10", "max_disables = 1000");
    let all = all_steps();
    let mut samples: Vec<Vec<Sample>> = all.iter().map(|_| Vec::new()).collect();
    for run in 0..RUNS {
        let mut state = json!({"event": event("hire-engineering.json", json!({
            "eventId": format!("bench-ic-{run}"), "employeeId": format!("IC{run}"), "givenName": format!("Bench{run}")
        }))});
        let leave = json!({"event": event("depart-scheduled.json", json!({
            "eventId": format!("bench-ic-leave-{run}"), "employeeId": format!("IC{run}"), "immediate": true
        }))});
        for (i, step) in all.iter().enumerate() {
            if *step == Step::Offboard {
                state = leave.clone();
            } else if *step == Step::Sweep {
                state = json!({});
            }
            let (sample, output) =
                measure(&acct, dir, step.name(), &toml, &state).map_err(|e| format!("{}: {e}", step.name()))?;
            if *step == Step::Offboard && output["status"] != "disabled" {
                return Err(format!("run {run}: the departure did not disable: {output}"));
            }
            state[step.state_key()] = output;
            samples[i].push(sample);
        }
    }
    Ok(samples)
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

/// Identity Center at its limit: `onboarding bootstrap` (release) for 20 more groups, 20
/// permission sets and each group's assignment in 5 accounts, every Identity Store and sso-admin
/// call behind a proxy that lets 20 a second through (any one-second window; beyond, the
/// service's `ThrottlingException`, as AWS answers an account at its limit) and adds 40 ms to
/// each. The floor is those calls at 20 a second; checked through the APIs: each group, permission
/// set and assignment made once.
async fn identity_center_at_its_limit(dir: &Path) -> Result<String, String> {
    const TEAMS: usize = 20;
    const ACCOUNTS: [&str; 5] = ["111111111111", "222222222222", "333333333333", "444444444444", "555555555555"];
    let acct = Account::new().await;
    let mut cfg = config();
    let teams: Vec<String> = (1..=TEAMS).map(|i| format!("Team{i:02}")).collect();
    cfg.groups.allowed.extend(teams.iter().cloned());
    cfg.target.kind = shared::config::TargetKind::IdentityCenter;
    let ic: shared::config::IdentityCenterConfig = toml::from_str(&format!(
        "portal_url = \"https://example.awsapps.com/start\"\n{}{}",
        teams
            .iter()
            .map(|t| format!(
                "[[permission_sets]]\nname = \"{t}\"\nmanaged_policies = [\"arn:aws:iam::aws:policy/ReadOnlyAccess\"]\n"
            ))
            .collect::<String>(),
        teams
            .iter()
            .map(|t| format!("[[assignments]]\ngroup = \"{t}\"\npermission_set = \"{t}\"\naccounts = {ACCOUNTS:?}\n"))
            .collect::<String>(),
    ))
    .map_err(|e| e.to_string())?;
    cfg.identity_center = Some(ic);
    cfg.validate().map_err(|e| e.to_string())?;
    let scratch = tests::scratch().join(format!("bench-ic-{}", acct.id));
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
    let config = scratch.join("onboarding.toml");
    std::fs::write(&config, toml::to_string(&cfg).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;

    let proxy = tests::proxy::CallProxy::start(&tests::emulator().endpoint);
    proxy.degrade(Duration::from_millis(40), 0.0);
    proxy.limit(&["identitystore", "sso"], 20);
    let (_, limited, took) = limited_run(&acct, dir, &config, &proxy, &["bootstrap"])?;
    let throttled = proxy.throttled();
    // Through the APIs: every group, permission set and assignment once.
    let (store, admin) = (acct.identity_store(), acct.sso_admin());
    let instance = admin.list_instances().send().await.map_err(|e| e.to_string())?;
    let instance = &instance.instances()[0];
    let (instance_arn, store_id) = (instance.instance_arn().unwrap_or(""), instance.identity_store_id().unwrap_or(""));
    let groups =
        store.list_groups().identity_store_id(store_id).max_results(100).send().await.map_err(|e| e.to_string())?;
    let sets = admin
        .list_permission_sets()
        .instance_arn(instance_arn)
        .max_results(100)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let mut assignments = 0;
    for ps in sets.permission_sets() {
        for account in ACCOUNTS {
            let a = admin
                .list_account_assignments()
                .instance_arn(instance_arn)
                .account_id(account)
                .permission_set_arn(ps)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            if a.account_assignments().len() != 1 {
                return Err(format!("{ps} in {account}: {} assignments", a.account_assignments().len()));
            }
            assignments += 1;
        }
    }
    let (want_groups, want_sets) = (cfg.groups.allowed.len(), TEAMS);
    if groups.groups().len() != want_groups || sets.permission_sets().len() != want_sets {
        return Err(format!(
            "{} groups of {want_groups}, {} permission sets of {want_sets}",
            groups.groups().len(),
            sets.permission_sets().len()
        ));
    }
    let floor = limited as f64 / 20.0;
    let over = (took.as_secs_f64() / floor - 1.0) * 100.0;
    let bootstrap = format!(
        "Identity Center bootstrap at its limit: {limited} Identity Store and sso-admin calls through a proxy \
         that lets 20 a second through and adds 40 ms to each: {:.1} s, {over:.0} % over the floor of {floor:.1} s \
         ({}; target: within 15 %); {throttled} throttled and retried; {want_groups} groups, {want_sets} \
         permission sets and {assignments} assignments, each made once",
        took.as_secs_f64(),
        if over <= 15.0 { "met" } else { "MISSED" },
    );
    let hires = ic_hires(&acct, dir, &config, &scratch, &proxy, store_id).await?;
    Ok(format!("{bootstrap}\n{hires}"))
}

/// The Identity Center calls one `onboarding` process makes, behind the limiting proxy: its
/// output, the limited calls, how long it took.
fn limited_run(
    acct: &Account,
    dir: &Path,
    config: &Path,
    proxy: &tests::proxy::CallProxy,
    args: &[&str],
) -> Result<(Vec<Value>, usize, Duration), String> {
    proxy.take_calls();
    let started = Instant::now();
    let out = acct
        .command(dir.join("onboarding"))
        .arg("--config")
        .arg(config)
        .args(["--format", "json"])
        .args(args)
        .env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| e.to_string())?;
    let took = started.elapsed();
    if !out.status.success() {
        return Err(format!("{args:?} exited {:?}: {}", out.status.code(), String::from_utf8_lossy(&out.stdout)));
    }
    let reports = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).map_err(|e| format!("{e}: {l}")))
        .collect::<Result<Vec<Value>, _>>()?;
    let limited =
        proxy.take_calls().iter().filter(|c| c.starts_with("identitystore:") || c.starts_with("sso:")).count();
    Ok((reports, limited, took))
}

/// `BENCH_IC_HIRES` (1,000) hires in one run on Identity Center at its limit (the proxy of
/// [`identity_center_at_its_limit`]), `--concurrency 16`: within 15 % of the floor (its Identity
/// Store and sso-admin calls at 20 a second), checked through the Identity Store API (one user
/// per hire, each in AllEmployees and Developers once); then one change and one immediate
/// departure, counted.
async fn ic_hires(
    acct: &Account,
    dir: &Path,
    config: &Path,
    scratch: &Path,
    proxy: &tests::proxy::CallProxy,
    store: &str,
) -> Result<String, String> {
    let hires: usize = std::env::var("BENCH_IC_HIRES").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000);
    let file = hires_file(scratch, hires, "ic", "I")?;
    let file = file.to_string_lossy().into_owned();
    let throttled = proxy.throttled();
    let (reports, calls, took) = limited_run(acct, dir, config, proxy, &["--concurrency", "16", "run", &file])?;
    let throttled = proxy.throttled() - throttled;
    let in_order = reports.iter().enumerate().all(|(i, r)| r["eventId"] == format!("ic-{i}"));
    let succeeded = reports.iter().filter(|r| r["outcome"] == "succeeded").count();
    // Through the API: one user per hire, and each in its two groups once.
    let ids = acct.identity_store();
    let mut users = 0;
    let mut token = None;
    loop {
        let page = ids.list_users().identity_store_id(store).set_next_token(token).send().await;
        let page = page.map_err(|e| e.to_string())?;
        users += page.users().len();
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    let groups = ids.list_groups().identity_store_id(store).max_results(100).send().await.map_err(|e| e.to_string())?;
    let mut members = Vec::new();
    for name in ["AllEmployees", "Developers"] {
        let id = groups.groups().iter().find(|g| g.display_name() == Some(name)).map(|g| g.group_id().to_owned());
        let id = id.ok_or_else(|| format!("no group {name}"))?;
        let (mut n, mut token) = (0, None);
        loop {
            let page = ids
                .list_group_memberships()
                .identity_store_id(store)
                .group_id(&id)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            n += page.group_memberships().len();
            token = page.next_token().map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
        members.push(n);
    }
    if !in_order || succeeded != hires || users != hires || members != [hires, hires] {
        return Err(format!(
            "in order {in_order}, {succeeded} of {hires} succeeded, {users} users, members {members:?}"
        ));
    }
    let floor = calls as f64 / 20.0;
    let over = (took.as_secs_f64() / floor - 1.0) * 100.0;
    let one = |name: &str, file: &str, overrides: Value| -> Result<usize, String> {
        let path = scratch.join(name);
        std::fs::write(&path, event(file, overrides).to_string()).map_err(|e| e.to_string())?;
        let (reports, calls, _) = limited_run(acct, dir, config, proxy, &["run", &path.to_string_lossy()])?;
        match reports.first() {
            Some(r) if r["outcome"] == "succeeded" => Ok(calls),
            other => Err(format!("{name}: {other:?}")),
        }
    };
    let change = one("change.json", "change-transfer.json", json!({"eventId": "ic-change", "employeeId": "I00000"}))?;
    let departure =
        one("depart.json", "depart-immediate.json", json!({"eventId": "ic-depart", "employeeId": "I00001"}))?;
    Ok(format!(
        "Identity Center hires at its limit: {hires} hires in one run, --concurrency 16, behind the same proxy: \
         {:.1} s, {over:.0} % over the floor of {floor:.1} s ({}; target: within 15 %); {calls} Identity Store and \
         sso-admin calls ({:.1} per hire), {throttled} throttled and retried; one user per hire, each in its two \
         groups once, output in input order. A change: {change} calls; an immediate departure (20 managed \
         permission sets written and provisioned): {departure} calls",
        took.as_secs_f64(),
        if over <= 15.0 { "met" } else { "MISSED" },
        calls as f64 / hires as f64,
    ))
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

/// Many hires in one run, as a company's first import would send them: `BENCH_HIRES` (1,000)
/// console hires in one JSON Lines file, `onboarding run --concurrency BENCH_CONCURRENCY` (16)
/// (release), every AWS call 40 ms behind a proxy that also answers 10 % of them with the
/// service's throttling error. Checked: every hire succeeded, output order = input order, one
/// user per person.
async fn scale(dir: &Path) -> Result<String, String> {
    let hires: usize = std::env::var("BENCH_HIRES").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000);
    let concurrency = std::env::var("BENCH_CONCURRENCY").unwrap_or_else(|_| "16".into());
    let acct = Account::new().await;
    // Bootstrapped, with no subscriber on the topics: the emulator delivers to subscribers inside
    // the publish call (AWS does not), which would add its fan-out to every audit publish.
    let mut cfg = config();
    let aws = shared::aws::Aws::new(&acct.sdk, cfg.retry_policy());
    onboarding::bootstrap::bootstrap(&cfg, &aws).await.map_err(|e| e.to_string())?;
    let targets = shared::steps::Targets::resolve(&cfg, &aws).await.map_err(|e| e.to_string())?;
    cfg.topics.notifications = targets.notifications_topic_arn.clone();
    cfg.topics.audit = targets.audit_topic_arn.clone();
    cfg.iam.permissions_boundary = targets.boundary_arn.clone();
    cfg.iam.role_sessions_boundary = targets.role_sessions_boundary_arn.clone();
    let scratch = tests::scratch().join(format!("bench-scale-{}", acct.id));
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
    let config = scratch.join("onboarding.toml");
    std::fs::write(&config, toml::to_string(&cfg).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    let file = hires_file(&scratch, hires, "scale", "S")?;
    let proxy = tests::proxy::CallProxy::start(&tests::emulator().endpoint);
    let share: f64 = std::env::var("BENCH_THROTTLE").ok().and_then(|v| v.parse().ok()).unwrap_or(0.10);
    proxy.degrade(Duration::from_millis(40), share);
    let started = Instant::now();
    let out = acct
        .command(dir.join("onboarding"))
        .arg("--config")
        .arg(&config)
        .args(["--format", "json", "--concurrency", &concurrency, "run"])
        .arg(&file)
        .env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| e.to_string())?;
    let took = started.elapsed();
    let reports: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).map_err(|e| format!("{e}: {l}")))
        .collect::<Result<_, _>>()?;
    let in_order = reports.iter().enumerate().all(|(i, r)| r["eventId"] == format!("scale-{i}"));
    let succeeded = reports.iter().filter(|r| r["outcome"] == "succeeded").count();
    let users = tests::user_names(&acct).await.len();
    if !out.status.success() || !in_order || succeeded != hires || users != hires {
        return Err(format!(
            "exit {:?}, in order {in_order}, {succeeded} of {hires} succeeded, {users} users",
            out.status.code()
        ));
    }
    let calls = proxy.take_calls().len();
    Ok(format!(
        "{hires} console hires in one run, --concurrency {concurrency}, every call 40 ms behind a proxy that \
         throttles {:.0} %: {:.1} s ({:.1} hires/s); {calls} calls ({:.1} per hire), {} throttled and retried; \
         all succeeded, none doubled, output in input order",
        share * 100.0,
        took.as_secs_f64(),
        hires as f64 / took.as_secs_f64(),
        calls as f64 / hires as f64,
        proxy.throttled()
    ))
}

/// AWS calls per operation of the CLI (release), counted by a proxy in front of the emulator,
/// not by reasoning: a console hire, its resend, a programmatic hire, an immediate departure, and
/// a sweep over every managed user (50 more hired first) with nothing due. Each is one
/// `onboarding` process, so its start-up look-ups are in its count (none here: the config names
/// the ARNs, as deployed).
async fn calls(acct: &Account, ctx: &shared::steps::Ctx, dir: &Path, toml: &str) -> Result<Vec<String>, String> {
    let proxy = tests::proxy::CallProxy::start(&tests::emulator().endpoint);
    let scratch = tests::scratch().join(format!("bench-calls-{}", acct.id));
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
    let config = scratch.join("onboarding.toml");
    std::fs::write(&config, toml).map_err(|e| e.to_string())?;
    let file = |name: &str, event: Value| {
        let path = scratch.join(name);
        std::fs::write(&path, event.to_string()).map(|()| path).map_err(|e| e.to_string())
    };
    let console =
        file("console.json", event("hire-engineering.json", json!({"eventId": "calls-1", "employeeId": "C1"})))?;
    let keyed = file(
        "programmatic.json",
        event(
            "hire-finance-programmatic.json",
            json!({"eventId": "calls-2", "employeeId": "C2", "givenName": "Calls"}),
        ),
    )?;
    let leave = file("depart.json", event("depart-immediate.json", json!({"eventId": "calls-3", "employeeId": "C1"})))?;
    // Two more people in one run: the second hire's calls, with the process's caches warm.
    let pair = |i: usize, name: &str| {
        event(
            "hire-engineering.json",
            json!({"eventId": format!("calls-pair-{i}"), "employeeId": format!("P{i}"), "givenName": name}),
        )
    };
    let two = file("two.json", json!([pair(1, "Pairone"), pair(2, "Pairtwo")]))?;
    let mut lines = vec!["AWS calls per operation (onboarding CLI, counted by a proxy):".to_owned()];
    let ops: [(&str, Vec<&str>); 6] = [
        ("console hire", vec!["run", console.to_str().unwrap_or_default()]),
        (
            "two console hires in one run, one after the other",
            vec!["--concurrency", "1", "run", two.to_str().unwrap_or_default()],
        ),
        ("its resend", vec!["run", console.to_str().unwrap_or_default()]),
        ("programmatic hire (access key)", vec!["run", keyed.to_str().unwrap_or_default()]),
        ("immediate departure", vec!["run", leave.to_str().unwrap_or_default()]),
        ("sweep, nothing due", vec!["sweep"]),
    ];
    let mut counts = Vec::new();
    for (what, args) in ops {
        if what.starts_with("sweep") {
            let hires = (0..50).map(|i| {
                let overrides = json!({"eventId": format!("crowd-{i}"), "employeeId": format!("K{i}"), "givenName": format!("Crowd{i}")});
                Ok(event("hire-engineering.json", overrides))
            });
            shared::pipeline::run_all(ctx, hires.collect()).await;
        }
        proxy.take_calls();
        let out = acct
            .command(dir.join("onboarding"))
            .arg("--config")
            .arg(&config)
            .args(&args)
            .env("AWS_ENDPOINT_URL", &proxy.endpoint)
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!("{what}: exit {:?}: {}", out.status.code(), String::from_utf8_lossy(&out.stdout)));
        }
        let calls = proxy.take_calls();
        let mut by: std::collections::BTreeMap<&str, usize> = Default::default();
        for c in &calls {
            *by.entry(c.as_str()).or_default() += 1;
        }
        let mut by: Vec<(&str, usize)> = by.into_iter().collect();
        by.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let detail = by.iter().map(|(c, n)| format!("{c} {n}")).collect::<Vec<_>>().join(", ");
        let users = if what.starts_with("sweep") {
            let managed = String::from_utf8_lossy(&out.stdout).split_whitespace().nth(3).unwrap_or("?").to_owned();
            format!(" over {managed} managed users")
        } else {
            String::new()
        };
        lines.push(format!("  {what}{users}: {} calls ({detail})", calls.len()));
        counts.push(calls.len());
    }
    // The same hire for another person, run alone and as the second of two.
    lines.insert(
        3,
        format!("  the second of them (password policy and group ARNs cached): {} calls", counts[1] - counts[0]),
    );
    Ok(lines)
}

const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

/// The intake's world, as the stack makes it: its signing secret, its dedupe table, the HR bus.
/// Returns its configuration.
async fn intake_setup(acct: &Account, cfg: &shared::config::Config) -> String {
    let secret_arn = acct.intake_world(SECRET, "bench-webhooks", "bench-hr").await;
    let mut cfg = cfg.clone();
    cfg.intake = shared::config::IntakeConfig {
        sources: vec![shared::config::IntakeSource {
            name: "workday".into(),
            secrets: vec![secret_arn],
            secret_env: None,
            secret_file: None,
        }],
        dedupe_table: Some("bench-webhooks".into()),
        event_bus: Some("bench-hr".into()),
        ..Default::default()
    };
    toml::to_string(&cfg).expect("config as TOML")
}

fn webhook_body(id: &str) -> Vec<u8> {
    let e = event("depart-immediate.json", json!({"eventId": id, "employeeId": format!("X{id}")}));
    json!({"type": "employee.departed", "timestamp": e["time"], "data": e["detail"]}).to_string().into_bytes()
}

fn signature_headers(id: &str, body: &[u8]) -> Vec<(&'static str, String)> {
    let now = chrono::Utc::now().timestamp();
    let sig = shared::webhook::SigningSecret::parse(SECRET).expect("secret").sign(id, now, body);
    vec![("webhook-id", id.to_owned()), ("webhook-timestamp", now.to_string()), ("webhook-signature", sig)]
}

/// A Function URL event: a signed departure of nobody (accepted, handed on).
fn signed_request(id: &str) -> Value {
    let body = webhook_body(id);
    let headers: serde_json::Map<String, Value> =
        signature_headers(id, &body).into_iter().map(|(k, v)| (k.to_owned(), json!(v))).collect();
    json!({
        "rawPath": "/hooks/workday",
        "headers": headers,
        "requestContext": {"http": {"method": "POST"}},
        "body": String::from_utf8_lossy(&body),
        "isBase64Encoded": false,
    })
}

/// `onboarding serve` (release) under 1,000 signed requests from 16 clients: requests per second
/// and answer latency, then the time to finish the accepted events after SIGTERM.
fn serve_load(acct: &Account, dir: &Path, toml: &str) -> Result<String, String> {
    use std::io::BufRead;
    const REQUESTS: usize = 1_000;
    const CLIENTS: usize = 16;
    let config = tests::scratch().join("bench-serve.toml");
    let mut cfg: shared::config::Config = shared::config::Config::parse(toml, "bench").map_err(|e| e.to_string())?;
    cfg.intake.sources = vec![shared::config::IntakeSource {
        name: "workday".into(),
        secrets: Vec::new(),
        secret_env: Some("BENCH_SIGNING_SECRET".into()),
        secret_file: None,
    }];
    std::fs::write(&config, toml::to_string(&cfg).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    let mut serve = acct.command(dir.join("onboarding"));
    serve
        .arg("--config")
        .arg(&config)
        .args(["--format", "json", "serve", "--listen", "127.0.0.1:0", "--queue", "2000"])
        .env("BENCH_SIGNING_SECRET", SECRET)
        .stderr(Stdio::inherit());
    let (mut child, said, out) = tests::spawn_announcing(&mut serve, &["listening on http://"])?;
    let addr = said[0].clone();
    let drain = std::thread::spawn(move || out.lines().count());
    let started = Instant::now();
    let mut latencies: Vec<Duration> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let addr = &addr;
                scope.spawn(move || {
                    let mut lat = Vec::new();
                    for i in (c..REQUESTS).step_by(CLIENTS) {
                        let id = format!("load-{i}");
                        let body = webhook_body(&id);
                        let t = Instant::now();
                        let (status, _) =
                            tests::http::request(addr, "POST", "/hooks/workday", &signature_headers(&id, &body), &body);
                        lat.push(t.elapsed());
                        assert_eq!(status, 202, "{id}");
                    }
                    lat
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().expect("client")).collect()
    });
    let answered = started.elapsed();
    let stop = Instant::now();
    std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().map_err(|e| e.to_string())?;
    let status = child.wait().map_err(|e| e.to_string())?;
    let processed = drain.join().map_err(|_| "drain")?;
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)].as_secs_f64() * 1e3;
    Ok(format!(
        "onboarding serve: {REQUESTS} signed requests from {CLIENTS} clients answered in {:.1} s ({:.0} requests/s; \
         answer p50 {:.1} ms, p99 {:.1} ms); after SIGTERM it finished the {processed} accepted events in {:.1} s \
         (exit {:?})",
        answered.as_secs_f64(),
        REQUESTS as f64 / answered.as_secs_f64(),
        at(0.5),
        at(0.99),
        stop.elapsed().as_secs_f64(),
        status.code()
    ))
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
