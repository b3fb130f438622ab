//! Access reviews end to end against the emulator: `review start` freezes the managed people's
//! access, reviewers get their links, two managers decide on the page in headless Chromium (and
//! a tool through the JSON API), refusals (expired link, another's item, a bad body, a forged
//! form, a closed campaign), `close` held by the guard then carried out, the revocations read
//! back through IAM, and the evidence pack's hashes recomputed by Python.

use std::collections::BTreeMap;
use std::process::Stdio;

use serde_json::{Value, json};
use shared::review::token::Key;
use tests::http::request;
use tests::{Account, binary, config, event, scratch, spawn_announcing, user_groups};

const KEY: &str = "review-key-for-tests-0123456789abcdef-0123456789";
const FALLBACK: &str = "security.lead@example.com";

/// Runs the CLI with the review config; returns exit code, stdout, stderr.
fn cli(acct: &Account, config: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = acct
        .command(binary("onboarding"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env("REVIEW_KEY", KEY)
        .stdin(Stdio::null())
        .output()
        .expect("onboarding runs");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

/// Headless Chromium on `url`, deciding `decisions` and submitting (`tests/browser/review.mjs`).
fn browser(url: &str, decisions: Value) -> Value {
    let chromium = tests::browser::chromium().expect("Chromium (`cargo xtask test` installs Debian's)");
    let out = std::process::Command::new("node")
        .env("CHROMIUM", chromium)
        .arg(tests::root().join("tests/browser/review.mjs"))
        .arg(url)
        .arg(decisions.to_string())
        .output()
        .expect("node runs");
    assert!(out.status.success(), "browser: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("the browser's JSON")
}

fn token_in(body: &str) -> String {
    let at = body.find("?token=").expect("a link with a token") + "?token=".len();
    body[at..].split_whitespace().next().expect("token").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaign_runs_from_start_through_the_page_to_revocations_and_an_evidence_pack() {
    // GIVEN four people: Jane and Zoe with a manager each, Sam whose manager on record is
    // himself, and Ned with none (both go to the fallback reviewer)
    let acct = Account::new().await;
    let mut cfg = config();
    cfg.review.fallback_reviewer = Some(FALLBACK.into());
    let (ctx, inboxes) = acct.ready(cfg).await;
    let people = [
        ("hire-engineering.json", json!({})),
        ("hire-finance-programmatic.json", json!({"managerEmail": "grace.hopper@example.com"})),
        (
            "hire-engineering.json",
            json!({"eventId": "hr-evt-sam", "employeeId": "E3001", "givenName": "Sam", "familyName": "Self",
                   "email": "sam.self@example.com", "managerEmail": "Sam.Self@example.com"}),
        ),
        (
            "hire-engineering.json",
            json!({"eventId": "hr-evt-ned", "employeeId": "E3002", "givenName": "Ned", "familyName": "Alone",
                   "email": "ned.alone@example.com", "managerEmail": null}),
        ),
    ];
    for (file, overrides) in people {
        let r = shared::pipeline::process(&ctx, &event(file, overrides)).await;
        assert!(r.error.is_none(), "{file}: {:?}", r.error);
    }
    let _ = inboxes.notifications.drain().await;
    let _ = inboxes.audit.drain().await;
    let shipped = std::fs::read_to_string(tests::root().join("onboarding.toml")).expect("config");
    let config = scratch().join(format!("review-{}.toml", acct.id));
    let review = format!(
        "\n[review]\nfallback_reviewer = \"{FALLBACK}\"\nbase_url = \"https://reviews.example.com\"\nkey_env = \"REVIEW_KEY\"\n"
    );
    std::fs::write(&config, format!("{shipped}{review}")).expect("config file");

    // WHEN the campaign starts
    let (code, out, err) =
        cli(&acct, &config, &["review", "start", "--campaign", "2026-q4", "--due", "14d", "--default", "revoke"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("campaign 2026-q4 started") && out.contains("for 4 people, 3 reviewers told"), "{out}");
    // Starting it again changes nothing.
    let (code, again, _) = cli(&acct, &config, &["review", "start", "--campaign", "2026-q4"]);
    assert!(code == 0 && again.contains("exists: nothing changed"), "{again}");

    // THEN each reviewer got one message with a link of their own, and no one else's token
    let messages = inboxes.notifications.drain().await;
    let mut tokens: BTreeMap<String, String> = BTreeMap::new();
    for m in &messages {
        let to = m.attributes.get("recipient").cloned().expect("recipient");
        assert_eq!(m.attributes.get("event-type").map(String::as_str), Some("access-review"));
        assert!(m.message.contains("https://reviews.example.com/reviews/2026-q4?token="), "{}", m.message);
        tokens.insert(to, token_in(&m.message));
    }
    assert_eq!(
        tokens.keys().map(String::as_str).collect::<Vec<_>>(),
        ["ada.lovelace@example.com", "grace.hopper@example.com", FALLBACK]
    );
    for m in &messages {
        let mine = &tokens[&m.attributes["recipient"]];
        assert!(tokens.values().filter(|t| *t != mine).all(|t| !m.message.contains(t.as_str())));
        assert!(!m.message.contains(KEY));
    }

    // AND the page is served with the key
    let mut serve = acct.command(binary("onboarding"));
    serve
        .arg("--config")
        .arg(&config)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("REVIEW_KEY", KEY)
        .stdin(Stdio::null())
        .stderr(Stdio::null());
    let (mut child, said, _out) = spawn_announcing(&mut serve, &["listening on http://"]).expect("onboarding serve");
    let addr = said[0].clone();
    let page = |who: &str| format!("http://{addr}/reviews/2026-q4?token={}", tokens[who]);
    let api = |method: &str, path: &str, who: &str, body: &Value| {
        let headers = [("content-type", "application/json".to_owned())];
        let path = format!("/reviews/2026-q4/{path}?token={}", tokens.get(who).map_or(who, String::as_str));
        let (status, text) = request(&addr, method, &path, &headers, body.to_string().as_bytes());
        (status, serde_json::from_str::<Value>(&text).unwrap_or(Value::Null), text)
    };

    // The JSON view: Jane's manager sees Jane's items only.
    let (status, ada, _) = api("GET", "items", "ada.lovelace@example.com", &Value::Null);
    assert_eq!(status, 200, "{ada}");
    assert_eq!(
        (ada["campaign"].as_str(), ada["reviewer"].as_str()),
        (Some("2026-q4"), Some("ada.lovelace@example.com"))
    );
    let ada_items = ada["items"].as_array().expect("items").clone();
    assert!(!ada_items.is_empty() && ada_items.iter().all(|i| i["employeeId"] == "E1001"), "{ada}");
    let item = |items: &[Value], access: &str, target: &str| {
        items
            .iter()
            .find(|i| i["access"] == access && i["target"] == target)
            .unwrap_or_else(|| panic!("{access} {target}"))["id"]
            .as_str()
            .expect("id")
            .to_owned()
    };
    let janes_developers = item(&ada_items, "group", "Developers");
    let janes_all = item(&ada_items, "group", "AllEmployees");
    let janes_console = item(&ada_items, "console", "");
    let (_, grace, _) = api("GET", "items", "grace.hopper@example.com", &Value::Null);
    let zoe_items = grace["items"].as_array().expect("items").clone();
    let (_, fallback, _) = api("GET", "items", FALLBACK, &Value::Null);
    let fallback_people: std::collections::BTreeSet<&str> =
        fallback["items"].as_array().expect("items").iter().filter_map(|i| i["employeeId"].as_str()).collect();
    assert_eq!(
        fallback_people.into_iter().collect::<Vec<_>>(),
        ["E3001", "E3002"],
        "the self-review went to the fallback"
    );

    // WHEN Jane's manager revokes Developers and keeps the rest, in the browser
    let shown = browser(
        &page("ada.lovelace@example.com"),
        json!([
            {"id": janes_developers, "decision": "revoke", "reason": "moved to a non-engineering role"},
            {"id": janes_all, "decision": "keep"},
            {"id": janes_console, "decision": "keep"},
        ]),
    );
    assert_eq!(shown["status"], 200);
    assert_eq!(shown["overflow"], false, "the page fits a phone's width");
    assert!(shown["text"].as_str().expect("text").contains("Jane Doe"), "{}", shown["text"]);
    let after = &shown["after"];
    assert_eq!(after["status"], 200, "{}", after["text"]);
    assert!(after["text"].as_str().expect("text").contains("Saved 3 decision(s)"), "{}", after["text"]);
    for html in [&shown["html"], &after["html"]] {
        assert!(
            !html.as_str().expect("html").contains(&tokens["ada.lovelace@example.com"]),
            "the token is in the page"
        );
    }
    // AND Zoe's manager keeps everything but revokes her access key, in the browser too
    let zoe_key = zoe_items.iter().find(|i| i["access"] == "access-key").expect("Zoe's key")["id"].clone();
    let mut decisions: Vec<Value> =
        zoe_items.iter().filter(|i| i["id"] != zoe_key).map(|i| json!({"id": i["id"], "decision": "keep"})).collect();
    decisions.push(json!({"id": zoe_key, "decision": "revoke", "reason": "not used in 90 days"}));
    let grace_shown = browser(&page("grace.hopper@example.com"), json!(decisions));
    assert!(
        grace_shown["after"]["text"]
            .as_str()
            .expect("text")
            .contains(&format!("Saved {} decision(s)", zoe_items.len()))
    );

    // AND a reminder goes only to the reviewer with undecided items, with a fresh link
    let (code, out, err) = cli(&acct, &config, &["review", "remind", "2026-q4"]);
    assert!(code == 0 && out.contains("1 reviewers told"), "{out}{err}");
    let reminders = inboxes.notifications.drain().await;
    assert_eq!(reminders.len(), 1);
    assert_eq!(reminders[0].attributes.get("recipient").map(String::as_str), Some(FALLBACK));
    assert_eq!(reminders[0].attributes.get("event-type").map(String::as_str), Some("access-review-reminder"));
    assert!(reminders[0].subject.as_deref().is_some_and(|s| s.contains("still need you")));

    // THEN the API shows the decisions; the refusals name what is wrong
    let (_, ada, _) = api("GET", "items", "ada.lovelace@example.com", &Value::Null);
    let got = ada["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["id"] == janes_developers.as_str())
        .cloned()
        .expect("item");
    assert_eq!(
        (got["decision"].as_str(), got["reason"].as_str()),
        (Some("revoke"), Some("moved to a non-engineering role"))
    );
    let not_mine = json!({"decisions": [{"id": zoe_key, "decision": "keep"}]});
    let (status, answer, _) = api("POST", "decisions", "ada.lovelace@example.com", &not_mine);
    assert_eq!((status, answer["field"].as_str()), (403, Some("decisions[0].id")), "{answer}");
    let no_reason = json!({"decisions": [{"id": janes_all, "decision": "revoke"}]});
    let (status, answer, _) = api("POST", "decisions", "ada.lovelace@example.com", &no_reason);
    assert_eq!((status, answer["field"].as_str()), (400, Some("decisions[0].reason")), "{answer}");
    let bad = json!({"decisions": [{"id": janes_all, "decision": "maybe"}]});
    let (status, answer, _) = api("POST", "decisions", "ada.lovelace@example.com", &bad);
    assert!(status == 400 && answer["error"].as_str().is_some_and(|e| e.contains("keep, revoke")), "{answer}");
    let (status, answer, _) = api("POST", "decisions", "ada.lovelace@example.com", &json!({"decision": []}));
    assert_eq!(status, 400, "{answer}");
    // An expired link, a link for another campaign, a forged one: 401, as a plain page too.
    let key = Key::new(KEY.as_bytes(), "k").expect("key");
    let expired = key.issue("2026-q4", "ada.lovelace@example.com", chrono::Utc::now() - chrono::TimeDelta::hours(1));
    let (status, answer, _) = api("GET", "items", &expired, &Value::Null);
    assert!(status == 401 && answer["error"].as_str().is_some_and(|e| e.contains("expired")), "{answer}");
    let expired_page = browser(&format!("http://{addr}/reviews/2026-q4?token={expired}"), json!([]));
    assert_eq!(expired_page["status"], 401);
    assert!(expired_page["text"].as_str().expect("text").contains("expired"), "{}", expired_page["text"]);
    let forged = Key::new(b"not the key at all, but long enough!!", "k").expect("key").issue(
        "2026-q4",
        "ada.lovelace@example.com",
        chrono::Utc::now() + chrono::TimeDelta::days(1),
    );
    assert_eq!(api("GET", "items", &forged, &Value::Null).0, 401);
    // A form posted without the page's check (another site's form) is refused, and writes nothing.
    let form = format!("decision.{janes_all}=revoke&reason.{janes_all}=x");
    let headers = [("content-type", "application/x-www-form-urlencoded".to_owned())];
    let path = format!("/reviews/2026-q4?token={}", tokens["ada.lovelace@example.com"]);
    assert_eq!(request(&addr, "POST", &path, &headers, form.as_bytes()).0, 403);
    // With the page's check: another site's origin is refused; the address reviewers are sent to
    // (a domain in front of the server) is this page's.
    let checked = format!("check={}&decision.{janes_all}=keep", key.form_check(&tokens["ada.lovelace@example.com"]));
    let from = |origin: &str| {
        let mut h = headers.to_vec();
        h.push(("origin", origin.to_owned()));
        request(&addr, "POST", &path, &h, checked.as_bytes()).0
    };
    assert_eq!(from("https://evil.example"), 403);
    assert_eq!(from("https://reviews.example.com"), 200);

    // WHEN the campaign closes: the fallback decided nothing, so Sam and Ned default to revoke:
    // 4 of 4 people would lose access, over the guard's 10 %: held
    let (code, out, err) = cli(&acct, &config, &["review", "close", "2026-q4"]);
    assert_eq!(code, 3, "{out}{err}");
    assert!(out.contains("held by the guard"), "{out}");
    assert_eq!(user_groups(&acct, "jane.doe").await, ["AllEmployees", "Developers"], "nothing revoked while held");
    // Decisions are closed from the moment close began.
    let late = json!({"decisions": [{"id": janes_all, "decision": "keep"}]});
    assert_eq!(api("POST", "decisions", "ada.lovelace@example.com", &late).0, 409);
    let (code, out, err) = cli(&acct, &config, &["review", "close", "2026-q4", "--allow-mass-offboarding"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("campaign 2026-q4 closed: 4 people reviewed, 4 losing access"), "{out}");

    // THEN IAM shows every revocation
    assert_eq!(user_groups(&acct, "jane.doe").await, ["AllEmployees"]);
    let iam = acct.iam();
    assert!(iam.get_login_profile().user_name("jane.doe").send().await.is_ok(), "Jane's console was kept");
    let keys = iam.list_access_keys().user_name("zoe.obrien-nunez").send().await.expect("keys");
    assert!(keys.access_key_metadata().iter().all(|k| k.status().map(|s| s.as_str()) == Some("Inactive")));
    for defaulted in ["sam.self", "ned.alone"] {
        assert!(user_groups(&acct, defaulted).await.is_empty(), "{defaulted} keeps a group");
        assert!(iam.get_login_profile().user_name(defaulted).send().await.is_err(), "{defaulted} keeps the console");
    }

    // AND the evidence pack: rows and manifest, the population, each hash recomputed by Python
    let dir = scratch().join(format!("evidence-{}", acct.id));
    std::fs::create_dir_all(&dir).expect("dir");
    let (rows, population) = (dir.join("pack.csv"), dir.join("population.jsonl"));
    let (code, out, err) = cli(
        &acct,
        &config,
        &[
            "--format",
            "csv",
            "review",
            "report",
            "2026-q4",
            "--out",
            rows.to_str().expect("path"),
            "--population",
            population.to_str().expect("path"),
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("pack.csv.manifest.json")).expect("manifest"))
            .expect("json");
    let python = std::env::var("ONBOARDING_PYTHON").unwrap_or_else(|_| "python3".into());
    let sha = |p: &std::path::Path| {
        let o = std::process::Command::new(&python)
            .args(["-c", "import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],'rb').read()).hexdigest())"])
            .arg(p)
            .output()
            .expect("python");
        String::from_utf8_lossy(&o.stdout).trim().to_owned()
    };
    assert_eq!(sha(&rows), manifest["sha256"].as_str().expect("sha"));
    assert_eq!(sha(&population), manifest["filters"]["populationSha256"].as_str().expect("population sha"));
    let csv = std::fs::read_to_string(&rows).expect("rows");
    let line = csv.lines().find(|l| l.starts_with(&janes_developers)).expect("Jane's Developers row");
    assert!(
        line.contains("ada.lovelace@example.com")
            && line.contains("moved to a non-engineering role")
            && line.contains("not a member of Developers"),
        "{line}"
    );
    let defaulted = csv.lines().filter(|l| l.contains(",revoke,true,")).count();
    assert!(defaulted >= 4, "Sam's and Ned's items defaulted to revoke: {csv}");

    // AND every decision is an audit record; no token or key in any record, report or page
    let records: Vec<Value> = inboxes.audit.drain().await.iter().map(|d| d.json()).collect();
    let decided: Vec<&Value> = records.iter().filter(|r| r["action"] == "review:Decide").collect();
    assert_eq!(decided.len(), 3 + zoe_items.len() + 1, "one record per decision");
    // The form sent again with a decision already made is recorded as such.
    assert_eq!(decided.iter().filter(|r| r["outcome"] == "already-done").count(), 1);
    let jane = decided.iter().find(|r| r["review"]["item"] == janes_developers.as_str()).expect("record");
    assert_eq!(
        (jane["review"]["reviewer"].as_str(), jane["review"]["decision"].as_str(), jane["reason"].as_str()),
        (Some("ada.lovelace@example.com"), Some("revoke"), Some("moved to a non-engineering role"))
    );
    assert!(records.iter().any(|r| r["action"] == "iam:RemoveUserFromGroup" && r["step"] == "review"));
    // Every item's outcome at close is a record too, the defaults marked.
    let settled: Vec<&Value> = records.iter().filter(|r| r["action"] == "review:Settle").collect();
    assert_eq!(settled.len(), csv.lines().count() - 1, "one per item");
    assert_eq!(settled.iter().filter(|r| r["review"]["defaulted"] == true).count(), defaulted);
    let everything =
        format!("{records:?}{csv}{}{}", std::fs::read_to_string(&population).expect("population"), after["html"]);
    for secret in tokens.values().map(String::as_str).chain([KEY, expired.as_str()]) {
        assert!(!everything.contains(secret), "a token or the key leaked");
    }

    // AND, read against the trail, every decision is witnessed by the record the page wrote
    let trail = dir.join("trail.jsonl");
    std::fs::write(&trail, records.iter().map(|r| format!("{r}\n")).collect::<String>()).expect("trail");
    let against_trail = ["--format", "json", "review", "report", "2026-q4", "--trail", trail.to_str().expect("path")];
    let (code, out, err) = cli(&acct, &config, &against_trail);
    assert_eq!(code, 0, "{out}{err}");
    let rows: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).expect("a row")).collect();
    for r in &rows {
        let witnessed = if r["decision"].is_null() { Value::Null } else { json!("recorded") };
        assert_eq!(r["trail"], witnessed, "{r}");
    }
    // WHEN someone with write access to the reviews table changes a decision and makes another
    let undecided = rows.iter().find(|r| r["defaulted"] == true).expect("an item nobody decided");
    let forged = [
        (janes_developers.as_str(), "ada.lovelace@example.com"),
        (undecided["id"].as_str().expect("id"), undecided["reviewer"].as_str().expect("reviewer")),
    ];
    let dynamodb = aws_sdk_dynamodb::Client::new(&acct.sdk);
    let s = |v: &str| aws_sdk_dynamodb::types::AttributeValue::S(v.to_owned());
    for (id, by) in forged {
        dynamodb
            .update_item()
            .table_name("employee-lifecycle-reviews")
            .key("campaign", s("2026-q4"))
            .key("sk", s(&format!("item#{id}")))
            .update_expression("SET decision = :d, decidedBy = :by")
            .expression_attribute_values(":d", s("keep"))
            .expression_attribute_values(":by", s(by))
            .send()
            .await
            .expect("the table written directly");
    }
    // THEN the report names both, and fails
    let (code, out, err) = cli(&acct, &config, &against_trail);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("2 decision(s) the trail does not witness"), "{err}");
    let rows: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).expect("a row")).collect();
    let trail_of = |id: &str| rows.iter().find(|r| r["id"] == id).expect("the item's row")["trail"].clone();
    assert_eq!(trail_of(forged[0].0), json!("the trail says revoke by ada.lovelace@example.com"));
    assert_eq!(trail_of(forged[1].0), json!("no review:Decide record"));
    assert_eq!(rows.iter().filter(|r| r["trail"] == "recorded").count(), 3 + zoe_items.len() - 1);
    let _ = child.kill();
    let _ = child.wait();
}

/// One recorded call as IAM authorises it, for the reviews function: DynamoDB on its table,
/// Secrets Manager on its secret, SNS on its topic, in the rendered stack's terms.
fn authorised_as(action: &str, body: &str) -> (String, String) {
    use tests::stack::{ACCOUNT, arn};
    let b: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    if let Some((prefix, name)) = action.split_once('.') {
        if prefix.starts_with("DynamoDB_") {
            let table = b["TableName"].as_str().expect("a table");
            return (format!("dynamodb:{name}"), format!("arn:aws:dynamodb:{}:{ACCOUNT}:table/{table}", tests::REGION));
        }
        if prefix == "secretsmanager" {
            // The emulator's ARN of the key, in the stack's terms; any other secret as it is.
            let id = b["SecretId"].as_str().expect("a secret");
            let stack_key = arn("secretsmanager", "secret:employee-lifecycle-reviews-key-AbCdEf");
            let resource =
                if id.contains(":secret:employee-lifecycle-reviews-key-") { stack_key } else { id.to_owned() };
            return (format!("secretsmanager:{name}"), resource);
        }
    }
    let form: BTreeMap<String, String> = shared::drivers::review::api::form_pairs(body).into_iter().collect();
    match form.get("Action").map(String::as_str).unwrap_or(action) {
        "Publish" | "PublishBatch" => {
            let topic = form.get("TopicArn").expect("a topic");
            ("sns:Publish".into(), arn("sns", topic.rsplit(':').next().unwrap_or_default()))
        }
        other => panic!("the reviews function made a call it has no business making: {other} {body}"),
    }
}

/// The deployed half: the `reviews` binary, started as Lambda starts it, reads the key from
/// Secrets Manager once, sends the links a campaign asked for when the reviews table's stream
/// says so (`review start` with `links = "function"`: the operator never holds the key), and
/// serves the page and the API through Function URL events; every call it makes (from the
/// emulator's recording) is allowed by the role the stack gives it, by both evaluators.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deployed_reviews_function_sends_the_links_and_serves_the_page_within_its_role() {
    use std::time::Duration;
    use tests::policy::{Decision, Request, Resource, decide};
    use tests::runtime_api::{Answer, Function};

    // GIVEN two people, and the review key in Secrets Manager as the stack makes it
    let acct = Account::new().await;
    let mut cfg = config();
    cfg.review.fallback_reviewer = Some(FALLBACK.into());
    let (ctx, inboxes) = acct.ready(cfg).await;
    for (file, overrides) in [("hire-engineering.json", json!({})), ("hire-finance-programmatic.json", json!({}))] {
        let r = shared::pipeline::process(&ctx, &event(file, overrides)).await;
        assert!(r.error.is_none(), "{file}: {:?}", r.error);
    }
    let _ = inboxes.notifications.drain().await;
    let secret = acct
        .secrets()
        .create_secret()
        .name("employee-lifecycle-reviews-key")
        .secret_string(KEY)
        .send()
        .await
        .expect("key secret");
    let secret_arn = secret.arn().expect("arn").to_owned();
    let shipped = std::fs::read_to_string(tests::root().join("onboarding.toml")).expect("config");
    let review = format!(
        "\n[review]\nfallback_reviewer = \"{FALLBACK}\"\nlinks = \"function\"\nkey_secret = \"{secret_arn}\"\nbase_url = \"{}\"\n",
        tests::stack::REVIEWS_URL
    );
    let toml = format!("{shipped}{review}").replace("base_delay_ms = 200", "base_delay_ms = 5");
    let config = scratch().join(format!("review-deployed-{}.toml", acct.id));
    std::fs::write(&config, &toml).expect("config file");
    // The function's config as the stack writes it: ARNs, so its cold start looks nothing up.
    let t = &ctx.targets;
    let toml = toml
        .replace("\"employee-permissions-boundary\"", &format!("\"{}\"", t.boundary_arn))
        .replace(
            "\"employee-role-sessions-boundary\"",
            &format!("\"{}\"", t.role_sessions_boundary_arn.as_deref().expect("the sessions boundary")),
        )
        .replace("\"onboarding-notifications\"", &format!("\"{}\"", t.notifications_topic_arn))
        .replace("\"onboarding-audit\"", &format!("\"{}\"", t.audit_topic_arn));

    // WHEN the operator starts a campaign: no key here, the links are asked of the function
    let out = acct
        .command(binary("onboarding"))
        .arg("--config")
        .arg(&config)
        .args(["review", "start", "--campaign", "2027-q1"])
        .stdin(Stdio::null())
        .output()
        .expect("onboarding");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && said.contains("links asked of the reviews function"), "{said}");
    assert!(inboxes.notifications.drain().await.is_empty(), "the CLI sent nothing itself");

    // AND the function gets the stream's record of that change, as Lambda hands it on
    let header = aws_sdk_dynamodb::Client::new(&acct.sdk)
        .get_item()
        .table_name("employee-lifecycle-reviews")
        .key("campaign", aws_sdk_dynamodb::types::AttributeValue::S("2027-q1".into()))
        .key("sk", aws_sdk_dynamodb::types::AttributeValue::S("campaign".into()))
        .send()
        .await
        .expect("header")
        .item
        .expect("the campaign's record");
    let asked = header["linksRequested"].as_s().expect("linksRequested").clone();
    let keys = json!({"campaign": {"S": "2027-q1"}, "sk": {"S": "campaign"}});
    let image = json!({"campaign": {"S": "2027-q1"}, "sk": {"S": "campaign"}, "linksRequested": {"S": asked}, "linksReminder": {"BOOL": false}});
    let record = |new: Value, old: Value| {
        json!({"Records": [{"eventName": "MODIFY", "eventSource": "aws:dynamodb",
            "dynamodb": {"Keys": keys, "NewImage": new, "OldImage": old, "StreamViewType": "NEW_AND_OLD_IMAGES"}}]})
    };
    let mark = acct.recorded().len();
    let f = Function::start("reviews", acct.env(), &toml);
    let invoke = |payload: Value| match tokio::task::block_in_place(|| f.api.invoke(payload, Duration::from_secs(60))) {
        Some(Answer::Response(v)) => v,
        other => panic!("reviews: {other:?}\n{}", f.log_text()),
    };
    let sent = invoke(record(image.clone(), json!({"campaign": {"S": "2027-q1"}, "sk": {"S": "campaign"}})));
    assert_eq!(sent["sent"][0]["reviewers"], 2, "{sent}");
    // A redelivery of a record that changed nothing sends nothing.
    assert_eq!(invoke(record(image.clone(), image.clone()))["sent"], json!([]));

    // THEN each manager has their link, valid for this campaign
    let messages = inboxes.notifications.drain().await;
    assert_eq!(messages.len(), 2);
    let key = Key::new(KEY.as_bytes(), "k").expect("key");
    let mut tokens = BTreeMap::new();
    for m in &messages {
        assert!(m.message.contains(&format!("{}/reviews/2027-q1?token=", tests::stack::REVIEWS_URL)), "{}", m.message);
        let token = token_in(&m.message);
        let claims = key.verify(Some(&token), "2027-q1", chrono::Utc::now()).expect("a valid link");
        assert_eq!(Some(&claims.reviewer), m.attributes.get("recipient"));
        tokens.insert(claims.reviewer, token);
    }

    // AND the page and the API answer through Function URL events
    let url_event = |method: &str, path: &str, query: &str, body: &str| {
        json!({"version": "2.0", "rawPath": path, "rawQueryString": query,
            "headers": {"host": "abc.lambda-url.us-east-1.on.aws", "content-type": "application/json"},
            "requestContext": {"http": {"method": method, "path": path}}, "body": body, "isBase64Encoded": false})
    };
    let ada = format!("token={}", tokens["ada.lovelace@example.com"]);
    let page = invoke(url_event("GET", "/reviews/2027-q1", &ada, ""));
    assert_eq!(page["statusCode"], 200);
    assert_eq!(page["headers"]["referrer-policy"], "no-referrer");
    let html = page["body"].as_str().expect("html");
    assert!(html.contains("Jane Doe") && !html.contains(&tokens["ada.lovelace@example.com"]), "{html}");
    let items = invoke(url_event("GET", "/reviews/2027-q1/items", &ada, ""));
    let items: Value = serde_json::from_str(items["body"].as_str().expect("body")).expect("json");
    let first = items["items"][0]["id"].as_str().expect("an item").to_owned();
    let decided = invoke(url_event(
        "POST",
        "/reviews/2027-q1/decisions",
        &ada,
        &json!({"decisions": [{"id": first, "decision": "keep"}]}).to_string(),
    ));
    assert_eq!(decided["statusCode"], 200, "{decided}");
    assert_eq!(invoke(url_event("GET", "/reviews/2027-q1", "token=forged.token", ""))["statusCode"], 401);

    // AND every call the function made is within the role the stack gives it
    let stack = tests::stack::stack();
    let role = tests::stack::function_role(&stack, "ReviewsRole");
    let key_policy = tests::stack::resource(&stack, "ReviewsKeyPolicy")["ResourcePolicy"].clone();
    let topics_policy = tests::stack::resource(&stack, "TopicsPolicy")["PolicyDocument"].clone();
    let mut made = std::collections::BTreeSet::new();
    for (action, body) in &acct.recorded()[mark..] {
        // The test's own reads of its inboxes share the account's keys; the function has no
        // SQS client.
        if action.starts_with("AmazonSQS.") {
            continue;
        }
        let (action, resource) = authorised_as(action, body);
        // Each call with the resource policy AWS would weigh with the role's: the key's, the topics'.
        let on = match action.split(':').next() {
            Some("secretsmanager") => Resource::Policy(&key_policy),
            Some("sns") => Resource::Policy(&topics_policy),
            _ => Resource::None,
        };
        assert_eq!(decide(&role, &Request::new(&action, &resource), on), Decision::Allowed, "{action} on {resource}");
        made.insert(action);
    }
    for call in
        ["secretsmanager:GetSecretValue", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem", "sns:Publish"]
    {
        assert!(made.contains(call), "no {call} was made: {made:?}");
    }
}

/// The sweep closes a campaign once its due date has passed: undecided items get the default
/// (here keep: nobody loses access), and a dry run only names it. With a trail bucket, the
/// population and the evidence pack are locked into it (Object Lock, compliance mode).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_closes_a_campaign_past_its_due_date_with_its_default() {
    // GIVEN one person and a campaign due in a day
    let acct = Account::new().await;
    let mut cfg = config();
    cfg.review.fallback_reviewer = Some(FALLBACK.into());
    let (ctx, _inboxes) = acct.ready(cfg).await;
    let r = shared::pipeline::process(&ctx, &event("hire-engineering.json", json!({}))).await;
    assert!(r.error.is_none(), "{:?}", r.error);
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&acct.sdk).force_path_style(true).build());
    let bucket = format!("trail-{}", acct.id);
    s3.create_bucket().bucket(&bucket).object_lock_enabled_for_bucket(true).send().await.expect("bucket");
    let shipped = std::fs::read_to_string(tests::root().join("onboarding.toml")).expect("config");
    let review = format!(
        "\n[review]\nfallback_reviewer = \"{FALLBACK}\"\nbase_url = \"https://reviews.example.com\"\nkey_env = \"REVIEW_KEY\"\n\
         \n[trail]\nbucket = \"{bucket}\"\n"
    );
    let config = scratch().join(format!("review-sweep-{}.toml", acct.id));
    std::fs::write(&config, format!("{shipped}{review}")).expect("config file");
    let (code, out, err) = cli(&acct, &config, &["review", "start", "--campaign", "weekly", "--due", "1d"]);
    assert_eq!(code, 0, "{out}{err}");
    // The population is in the trail, locked, and hashes to what start said.
    let sha = out.split("population sha256 ").nth(1).expect("the population's hash").trim().to_owned();
    let locked = |key: String| {
        let s3 = s3.clone();
        let bucket = bucket.clone();
        async move {
            let head = s3.head_object().bucket(&bucket).key(&key).send().await.unwrap_or_else(|e| panic!("{key}: {e}"));
            assert_eq!(head.object_lock_mode().map(|m| m.as_str()), Some("COMPLIANCE"), "{key}");
            let body = s3.get_object().bucket(&bucket).key(&key).send().await.expect("object").body.collect().await;
            String::from_utf8(body.expect("body").into_bytes().to_vec()).expect("text")
        }
    };
    let population = locked("reviews/weekly/population.jsonl".into()).await;
    assert_eq!(shared::review::sha256_hex(&population), sha);
    let later = shared::lifecycle::stamp(chrono::Utc::now() + chrono::TimeDelta::days(2));

    // WHEN the sweep runs before and after the due date
    let (code, out, err) = cli(&acct, &config, &["sweep"]);
    assert!(code == 0 && !out.contains("access review"), "not due yet: {out}{err}");
    let (code, out, err) = cli(&acct, &config, &["sweep", "--dry-run", "--now", &later]);
    assert!(code == 0 && out.contains("access review: campaign weekly is due: it would close"), "{out}{err}");
    let (code, out, err) = cli(&acct, &config, &["sweep", "--now", &later, "--allow-future-now"]);

    // THEN it closed with the default: everything kept
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("access review: campaign weekly closed: 1 people reviewed, 0 losing access")
            && out.contains("0 revoked now, 0 failed"),
        "{out}"
    );
    assert_eq!(user_groups(&acct, "jane.doe").await, ["AllEmployees", "Developers"]);
    let (_, status, _) = cli(&acct, &config, &["review", "status", "weekly"]);
    assert!(status.contains("campaign weekly closed"), "{status}");
    let (_, again, _) = cli(&acct, &config, &["sweep", "--now", &later, "--allow-future-now"]);
    assert!(!again.contains("access review"), "a closed campaign is not closed twice: {again}");

    // AND the evidence pack goes to the trail too, locked, its manifest naming its hash
    let (code, rows, err) = cli(&acct, &config, &["--format", "json", "review", "report", "weekly"]);
    assert_eq!(code, 0, "{rows}{err}");
    let listed = s3.list_objects_v2().bucket(&bucket).prefix("reviews/weekly/evidence-").send().await.expect("list");
    let keys: Vec<String> = listed.contents().iter().filter_map(|o| o.key().map(str::to_owned)).collect();
    let (data, manifest) = (
        keys.iter().find(|k| k.ends_with(".jsonl")).expect("the rows").clone(),
        keys.iter().find(|k| k.ends_with(".manifest.json")).expect("the manifest").clone(),
    );
    let data = locked(data).await;
    let manifest: Value = serde_json::from_str(&locked(manifest).await).expect("json");
    assert_eq!(data, rows, "the locked rows are the report's");
    assert_eq!(manifest["sha256"].as_str(), Some(shared::review::sha256_hex(&data).as_str()));
    assert_eq!(manifest["filters"]["populationSha256"].as_str(), Some(sha.as_str()));
}
