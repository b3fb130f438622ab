//! `cargo xtask demo [--identity-center]`: the sample events through the CLI against the emulator.

use super::*;

/// The demo's webhook signing secret (a sample, like the emulator's credentials).
pub(crate) const DEMO_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

/// The demo's hand-made users, through boto3 (moto's dependency, in the venv); argv[1] is the
/// emulator's endpoint.
pub(crate) const DEMO_HANDMADE: &str = r#"
import sys, boto3
iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="testing", aws_secret_access_key="testing")
for name in ("ghopper", "alan.turing"):
    if not any(u["UserName"] == name for u in iam.list_users()["Users"]):
        iam.create_user(UserName=name)
        print(f"  created {name} by hand")
if not iam.list_access_keys(UserName="ghopper")["AccessKeyMetadata"]:
    iam.create_access_key(UserName="ghopper")
try:
    iam.create_login_profile(UserName="alan.turing", Password="Enigma-1912-hand-made!")
except iam.exceptions.EntityAlreadyExistsException:
    pass
"#;

/// What a demo runs with: the emulator it started, the built binaries and its config file.
pub(crate) struct Demo {
    emu: Emulator,
    target: PathBuf,
    config: PathBuf,
}

impl Demo {
    /// Builds the binaries, starts the emulator and writes the demo's config (`name`, `text`).
    fn start(name: &str, text: &str) -> Result<Self> {
        run(cargo().args(["build", "--quiet", "--package", "onboarding", "--package", "tests", "--bins"]))?;
        let emu = start_emulator()?;
        let target = target_dir()?;
        let config = target.join(name);
        std::fs::write(&config, text).map_err(|e| e.to_string())?;
        Ok(Self { emu, target, config })
    }

    fn bin(&self, name: &str) -> PathBuf {
        self.target.join("debug").join(name)
    }

    /// `c` talking to the emulator, with none of the caller's AWS settings.
    fn aws(&self, mut c: Command) -> Command {
        c.current_dir(root())
            .env("AWS_ENDPOINT_URL", &self.emu.endpoint)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("AWS_PROFILE");
        c
    }

    /// `onboarding --config <the demo's> args`, against the emulator.
    fn onboarding(&self, args: &[&str]) -> Command {
        let mut c = self.aws(Command::new(self.bin("onboarding")));
        c.arg("--config").arg(&self.config).args(args).env("WORKDAY_SIGNING_SECRET", DEMO_SECRET);
        c
    }

    /// A Python snippet run with the project's boto3, given the emulator's endpoint.
    fn python(&self, snippet: &str) -> Result {
        run(Command::new(venv_python()?).args(["-c", snippet, &self.emu.endpoint]))
    }
}

/// A demo step's title.
pub(crate) fn step(title: &str) {
    println!("\n==> {title}");
    let _ = std::io::stdout().flush();
}

/// The sample events: the hires, then the rest (a transfer and two departures).
pub(crate) fn sample_events() -> Result<(Vec<String>, Vec<String>)> {
    let mut all: Vec<String> = std::fs::read_dir(root().join("events"))
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| p.strip_prefix(root()).unwrap_or(&p).display().to_string())
        .collect();
    all.sort();
    Ok(all.into_iter().partition(|f| f.contains("/hire-")))
}

pub(crate) fn demo(args: &[String]) -> Result {
    match args.first().map(String::as_str) {
        None => demo_iam(),
        Some("--identity-center") => demo_identity_center(),
        Some(other) => Err(format!("demo: unknown option `{other}`; use no option (IAM users) or --identity-center")),
    }
}

pub(crate) fn demo_iam() -> Result {
    // The shipped config, except for what the emulator lacks (service-specific credentials),
    // and with HR's webhook source `workday`, whose signing secret is in the environment.
    let shipped = std::fs::read_to_string(root().join("onboarding.toml")).map_err(|e| e.to_string())?;
    let source = "\n[[intake.sources]]\nname = \"workday\"\nsecret_env = \"WORKDAY_SIGNING_SECRET\"\n";
    // Access reviews: links signed with a key from the environment, for a page at serve's address.
    let review = "\n[review]\nfallback_reviewer = \"security.lead@example.com\"\n\
                  base_url = \"http://127.0.0.1:8080\"\nkey_env = \"DEMO_REVIEW_KEY\"\n";
    let text = shipped.replace("[retry]", "skip_service_specific_credentials = true\n\n[retry]") + source + review;
    let d = Demo::start("demo-onboarding.toml", &text)?;
    let (emu, target) = (&d.emu, &d.target);
    let bin = |name: &str| d.bin(name);
    let with_aws = |c: Command| d.aws(c);
    // The review links' key (`[review] key_env`), for every command: serve answers the page too.
    let onboarding = |args: &[&str]| {
        let mut c = d.onboarding(args);
        c.env("DEMO_REVIEW_KEY", "demo-review-key-not-a-real-secret-0123456789");
        c
    };
    let (events, later) = sample_events()?;
    let webhooks: Vec<String> = events.iter().map(|e| e.replace("events/", "events/webhooks/")).collect();

    step(&format!("emulator (moto, pinned) at {}", emu.endpoint));
    step("onboarding bootstrap");
    run(&mut onboarding(&["bootstrap"]))?;
    run(with_aws(Command::new(bin("demo-trail"))).arg("subscribe"))?;
    step(
        "day one: users someone made by hand before this system (ghopper with an access key, alan.turing with a password)",
    );
    d.python(DEMO_HANDMADE)?;
    step("onboarding roster import events/roster/day-one.csv (the plan: nothing changes)");
    run(&mut onboarding(&["roster", "import", "events/roster/day-one.csv"]))?;
    step("onboarding roster import --apply: adopts the two (their credentials kept, no welcome), creates Ada");
    run(&mut onboarding(&["roster", "import", "events/roster/day-one.csv", "--apply"]))?;
    step("onboarding plan (dry run: nothing changes)");
    run(&mut onboarding(&["plan", &events[0]]))?;
    step("onboarding serve: HR's front door, signed webhooks (Standard Webhooks v1)");
    let mut serve =
        onboarding(&["serve", "--listen", "127.0.0.1:0"]).stdout(Stdio::piped()).spawn().map_err(|e| e.to_string())?;
    let mut served = BufReader::new(serve.stdout.take().ok_or("no serve stdout")?);
    let mut line = String::new();
    served.read_line(&mut line).map_err(|e| e.to_string())?;
    print!("{line}");
    let url = line.trim().strip_prefix("listening on ").ok_or_else(|| format!("serve said {line:?}"))?.to_owned();
    // What serve prints from here on (one report per processed event) is shown as it comes.
    let echo = std::thread::spawn(move || {
        for l in served.lines().map_while(std::result::Result::ok) {
            println!("  [serve] {l}");
        }
    });
    let post = |title: &str, file: &str, id: &str, extra: &[&str]| -> Result {
        step(&format!("POST {file} ({title})"));
        let mut args = vec!["sign", "--source", "workday", "--id", id, "--post", &url];
        args.extend_from_slice(extra);
        args.push(file);
        let status = onboarding(&args).status().map_err(|e| e.to_string())?;
        println!("(exit code {})", status.code().unwrap_or(-1));
        Ok(())
    };
    for (i, file) in webhooks.iter().enumerate() {
        post("a hire, signed", file, &format!("demo-{i}"), &[])?;
    }
    post("HR resends the first: 200, the first answer, nothing handed on twice", &webhooks[0], "demo-0", &[])?;
    let stale =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() - 600).unwrap_or(0);
    post(
        "signed ten minutes ago: 400, outside the 5-minute tolerance",
        &webhooks[0],
        "demo-stale",
        &["--timestamp", &stale.to_string()],
    )?;
    step("a sender with the wrong secret: 401, nothing handed on");
    let status = onboarding(&["sign", "--source", "workday", "--id", "demo-forged", "--post", &url, &webhooks[0]])
        .env("WORKDAY_SIGNING_SECRET", "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .status()
        .map_err(|e| e.to_string())?;
    println!("(exit code {})", status.code().unwrap_or(-1));
    step("SIGTERM to serve: it finishes every accepted event, then exits");
    run(Command::new("kill").args(["-TERM", &serve.id().to_string()]))?;
    let status = serve.wait().map_err(|e| e.to_string())?;
    let _ = echo.join();
    println!("(serve exited with {})", status.code().unwrap_or(-1));
    step("a bad event: a clear error naming the field, exit code 1, nothing created");
    let status = onboarding(&["run", "events/invalid/smuggled-groups.json"]).status().map_err(|e| e.to_string())?;
    println!("(exit code {})", status.code().unwrap_or(-1));
    step("an access review: every managed person's access frozen, each manager sent their link");
    run(&mut onboarding(&["review", "start", "--campaign", "demo-q4", "--due", "14d"]))?;
    run(&mut onboarding(&["review", "status", "demo-q4"]))?;
    step("nobody decided: close gives every item the default (keep); the evidence pack with its manifest");
    run(&mut onboarding(&["review", "close", "demo-q4"]))?;
    let pack = target.join("demo-review.csv").to_string_lossy().into_owned();
    run(&mut onboarding(&["--format", "csv", "review", "report", "demo-q4", "--out", &pack]))?;
    step(&format!("HR sends a transfer and two departures (one immediate): onboarding run {}", later.join(" ")));
    let mut args = vec!["run"];
    args.extend(later.iter().map(String::as_str));
    run(&mut onboarding(&args))?;
    step("the scheduled sweep, as it would run in June 2030: the last day has passed, the grace period too");
    run(&mut onboarding(&["sweep", "--now", "2030-06-29T00:00:00Z", "--allow-future-now"]))?;
    step("what AWS now holds, and what the audit and notification topics carried");
    let archive = target.join("demo-trail");
    let _ = std::fs::remove_dir_all(&archive);
    let archive = archive.to_string_lossy().into_owned();
    run(with_aws(Command::new(bin("demo-trail"))).args(["show", &archive]))?;
    // What an auditor sees, from the trail laid out as the archiver writes it to the bucket.
    let html = target.join("demo-audit-report.html").to_string_lossy().into_owned();
    let period = ["--from", "2026-01-01", "--to", "2030-12-31"];
    let audit = |what: &[&str]| {
        let mut args = vec!["--now", "2030-06-29T00:00:00Z", "audit", "--source", &archive];
        args.extend(what);
        args.extend(period);
        onboarding(&args)
    };
    step("the auditor's leaver SLA: onboarding audit leavers --sla 24h (the sweep ran as of June 2030)");
    run(&mut audit(&["leavers", "--sla", "24h"]))?;
    step(
        "the auditor's completeness check: one terminal record per delivery (the bad event failed and \
         nobody retried it, so exit 1 says the period is not clean)",
    );
    let status = audit(&["completeness"]).status().map_err(|e| e.to_string())?;
    println!("(exit code {})", status.code().unwrap_or(-1));
    step("the auditor's report, one self-contained HTML file");
    run(&mut audit(&["report", "--html", &html]))?;
    Ok(())
}

/// Identity Center before this system: a Control-Tower-style group and a `jane.doe` someone else
/// made, a member of it and of Developers.
pub(crate) const DEMO_IC_HANDMADE: &str = r#"
import sys, boto3
kw = dict(endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
store = boto3.client("sso-admin", **kw).list_instances()["Instances"][0]["IdentityStoreId"]
ids = boto3.client("identitystore", **kw)
groups = {g["DisplayName"]: g["GroupId"] for g in ids.list_groups(IdentityStoreId=store)["Groups"]}
if "AWSControlTowerAdmins" not in groups:
    groups["AWSControlTowerAdmins"] = ids.create_group(IdentityStoreId=store, DisplayName="AWSControlTowerAdmins")["GroupId"]
    print("  created group AWSControlTowerAdmins by hand")
users = {u["UserName"]: u["UserId"] for u in ids.list_users(IdentityStoreId=store)["Users"]}
if "jane.doe" not in users:
    jane = ids.create_user(IdentityStoreId=store, UserName="jane.doe", DisplayName="Jane Doe",
                           Name={"GivenName": "Jane", "FamilyName": "Doe"},
                           Emails=[{"Value": "jane@contractor.example", "Primary": True}])["UserId"]
    for g in ("AWSControlTowerAdmins", "Developers"):
        ids.create_group_membership(IdentityStoreId=store, GroupId=groups[g], MemberId={"UserId": jane})
    print("  created user jane.doe by hand, in AWSControlTowerAdmins and Developers")
"#;

/// What Identity Center holds now: each user with its groups, and whom each permission set's
/// inline policy denies.
pub(crate) const DEMO_IC_SHOW: &str = r#"
import sys, json, boto3
kw = dict(endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
admin = boto3.client("sso-admin", **kw)
instance = admin.list_instances()["Instances"][0]
store, arn = instance["IdentityStoreId"], instance["InstanceArn"]
ids = boto3.client("identitystore", **kw)
groups = {g["GroupId"]: g["DisplayName"] for g in ids.list_groups(IdentityStoreId=store)["Groups"]}
names = {}
for u in sorted(ids.list_users(IdentityStoreId=store)["Users"], key=lambda u: u["UserName"]):
    names[u["UserId"]] = u["UserName"]
    member = ids.list_group_memberships_for_member(IdentityStoreId=store, MemberId={"UserId": u["UserId"]})
    mine = sorted(groups[m["GroupId"]] for m in member["GroupMemberships"])
    print(f"  user {u['UserName']:<14} groups: {', '.join(mine) or '-'}")
for ps in admin.list_permission_sets(InstanceArn=arn)["PermissionSets"]:
    name = admin.describe_permission_set(InstanceArn=arn, PermissionSetArn=ps)["PermissionSet"]["Name"]
    doc = admin.get_inline_policy_for_permission_set(InstanceArn=arn, PermissionSetArn=ps).get("InlinePolicy") or "{}"
    denied = [v for s in json.loads(doc).get("Statement", []) for v in
              s.get("Condition", {}).get("StringEquals", {}).get("identitystore:userId", [])]
    shown = ", ".join(names.get(d, d + " (deleted)") for d in denied) or "nobody"
    print(f"  permission set {name:<10} denies: {shown}")
"#;

pub(crate) fn demo_identity_center() -> Result {
    // The shipped config with the shipped Identity Center sample appended.
    let shipped = std::fs::read_to_string(root().join("onboarding.toml")).map_err(|e| e.to_string())?;
    let sample = std::fs::read_to_string(root().join("onboarding.identity-center.toml")).map_err(|e| e.to_string())?;
    let d = Demo::start("demo-identity-center.toml", &format!("{shipped}\n{sample}"))?;
    let (hires, later) = sample_events()?;
    let exit = |c: &mut Command| -> Result {
        let status = c.status().map_err(|e| e.to_string())?;
        println!("(exit code {})", status.code().unwrap_or(-1));
        Ok(())
    };

    step(&format!("emulator (moto, pinned) at {}; target.kind = \"identity-center\"", d.emu.endpoint));
    step("onboarding bootstrap: the allowed groups, the permission sets, their assignments, the people table");
    run(&mut d.onboarding(&["bootstrap"]))?;
    step("onboarding doctor: what bootstrap made, checked against the config");
    exit(&mut d.onboarding(&["doctor"]))?;
    step("before this system: a Control-Tower-style group and a `jane.doe` someone else made");
    d.python(DEMO_IC_HANDMADE)?;
    step("onboarding plan (dry run: nothing changes)");
    run(&mut d.onboarding(&["plan", &hires[0]]))?;
    let mut args = vec!["run"];
    args.extend(hires.iter().map(String::as_str));
    step(&format!("HR's hires: onboarding {}", args.join(" ")));
    run(&mut d.onboarding(&args))?;
    step("HR resends the first: nothing changes");
    run(&mut d.onboarding(&["run", &hires[0]]))?;
    step("who has what (the hand-made jane.doe is not this system's; the hires are jane.doe2 and jane.doe3)");
    d.python(DEMO_IC_SHOW)?;
    let mut args = vec!["run"];
    args.extend(later.iter().map(String::as_str));
    step(&format!("HR sends a transfer and two departures (one immediate): onboarding {}", args.join(" ")));
    run(&mut d.onboarding(&args))?;
    step("the leaver is denied in every permission set this system manages, and in no group");
    d.python(DEMO_IC_SHOW)?;
    step(
        "the scheduled sweep, as it would run in June 2030: the last day has passed, the grace period too, but \
         not 9 hours of real time (the longest session, PT8H, plus one) since the immediate leaver's access \
         ended, so their user is not deleted yet (exit 1 says so): the deny entry must outlive every session",
    );
    exit(&mut d.onboarding(&["sweep", "--now", "2030-06-29T00:00:00Z", "--allow-future-now"]))?;
    step("what Identity Center holds now: both leavers denied, in no group");
    d.python(DEMO_IC_SHOW)?;
    step("the auditor's view: onboarding audit access");
    run(&mut d.onboarding(&["audit", "access"]))?;
    Ok(())
}
