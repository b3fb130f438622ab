//! AWS calls per operation, counted by a proxy in front of the emulator.

use super::*;

/// AWS calls per operation of the CLI (release), counted by a proxy in front of the emulator,
/// not by reasoning: a console hire, its resend, a programmatic hire, an immediate departure, and
/// a sweep over every managed user (50 more hired first) with nothing due. Each is one
/// `onboarding` process, so its start-up look-ups are in its count (none here: the config names
/// the ARNs, as deployed).
pub(crate) async fn calls(
    acct: &Account,
    ctx: &shared::steps::Ctx,
    dir: &Path,
    toml: &str,
) -> Result<Vec<String>, String> {
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
