//! Access reviews on Identity Center: a campaign over the managed people's group memberships,
//! each with the permission sets and accounts its group is assigned; a manager revokes one
//! through the API; close leaves that group through the departure's call, read back from the
//! Identity Store.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaign_reviews_identity_center_memberships_and_close_leaves_the_revoked_group() {
    use shared::drivers::review::api::{Request, handle};
    use shared::review::token::Key;
    const KEY: &str = "identity-center-review-key-0123456789abcdef";

    // GIVEN Identity Center bootstrapped and Jane hired there (Engineering: AllEmployees and
    // Developers; her manager is ada@example.com)
    let acct = Account::new().await;
    let cfg = config_file(&format!("reviews-{}", acct.id));
    let mut text = std::fs::read_to_string(&cfg).expect("config");
    text.push_str(
        "\n[review]\nfallback_reviewer = \"security.lead@example.com\"\nbase_url = \"https://reviews.example.com\"\n\
         key_env = \"REVIEW_KEY\"\n",
    );
    std::fs::write(&cfg, text).expect("config");
    ok(&onboarding(&acct, &cfg, &["bootstrap"]));
    let ctx = connected(&acct, &cfg).await;
    let now = shared::lifecycle::stamp(chrono::Utc::now());
    twice(&ctx, &now, &jane_hired("hr-review-1", &now, "2026-11-02")).await;
    let (_, store) = instance(&acct).await;
    let users = store_users(&acct, &store).await;
    let (jane, _) = users.iter().find(|(_, row)| row.0 == "jane.doe").expect("jane's user");
    assert_eq!(memberships(&acct, &store, jane).await, ["AllEmployees", "Developers"]);

    // WHEN a campaign starts
    let review = |args: &[&str]| {
        let mut cmd = acct.command(binary("onboarding"));
        cmd.arg("--config").arg(&cfg).args(args).env("REVIEW_KEY", KEY).stdin(Stdio::null());
        cmd.output().expect("onboarding")
    };
    let out = review(&["review", "start", "--campaign", "ic-q4"]);
    ok(&out);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("2 items for 1 people, 1 reviewers told"), "{said}");

    // THEN her two memberships are the items, her manager's, each saying what the group gives
    let items = ctx.aws.reviews.items(&ctx.cfg.review.table, "ic-q4").await.expect("items");
    let developers = items.iter().find(|i| i.frozen.target == "Developers").expect("Developers");
    assert!(items.iter().all(|i| i.frozen.reviewer == "ada@example.com" && i.frozen.employee_id == "E5001"));
    assert!(developers.frozen.detail.starts_with("grants Developers in "), "{}", developers.frozen.detail);

    // WHEN her manager revokes Developers through the API, and the campaign closes
    let key = Key::new(KEY.as_bytes(), "k").expect("key");
    let token = key.issue("ic-q4", "ada@example.com", chrono::Utc::now() + chrono::TimeDelta::days(1));
    let body = serde_json::json!({"decisions": [{"id": developers.frozen.id, "decision": "revoke", "reason": "left the team"}]});
    let body = body.to_string();
    let headers = [("content-type".to_owned(), "application/json".to_owned())];
    let query = format!("token={token}");
    let request = Request {
        method: "POST",
        path: "/reviews/ic-q4/decisions",
        query: Some(&query),
        headers: &headers,
        body: body.as_bytes(),
    };
    let answer = handle(&ctx, &key, &request, chrono::Utc::now()).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let out = review(&["review", "close", "ic-q4"]);
    ok(&out);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("1 revoked now, 0 failed") && said.contains("not a member of Developers"), "{said}");

    // THEN the Identity Store shows her out of Developers and still in AllEmployees
    assert_eq!(memberships(&acct, &store, jane).await, ["AllEmployees"]);
}
