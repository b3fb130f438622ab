//! The Identity Center parts: the step functions with `Target` identity-center, and the CLI at
//! Identity Center's limit (bootstrap, 1,000 hires, a change, a departure) behind a limiting proxy.

use super::*;

/// The step functions on Identity Center, as the stack with `Target` identity-center runs them:
/// the shipped config with the shipped sample, the instance and store and the topics' ARNs named
/// (so a cold start makes no call), after a release `onboarding bootstrap`. Each run is a hire
/// through the onboarding functions, the same person's immediate departure, then a sweep,
/// [`RUNS`] times; the samples per function, in [`all_steps`] order.
pub(crate) async fn identity_center_functions(dir: &Path) -> Result<Vec<Vec<Sample>>, String> {
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

/// Identity Center at its limit: `onboarding bootstrap` (release) for 20 more groups, 20
/// permission sets and each group's assignment in 5 accounts, every Identity Store and sso-admin
/// call behind a proxy that lets 20 a second through (any one-second window; beyond, the
/// service's `ThrottlingException`, as AWS answers an account at its limit) and adds 40 ms to
/// each. The floor is those calls at 20 a second; checked through the APIs: each group, permission
/// set and assignment made once.
pub(crate) async fn identity_center_at_its_limit(dir: &Path) -> Result<String, String> {
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
pub(crate) fn limited_run(
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
pub(crate) async fn ic_hires(
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
