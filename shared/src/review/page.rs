//! The reviewer's page: plain HTML, no script, readable on a phone. The form posts back to the
//! page's own address (no `action`), so the link's token is never written into the page; a
//! hidden check bound to the token ([`super::token::Key::form_check`]) refuses forms built
//! elsewhere.

use super::{Campaign, Decision, Item, Status};
use crate::html::escape;

/// Headers every review answer carries: nothing cached, the address (with its token) never sent
/// on as a referrer, no framing, no script, forms only to this origin.
pub const HEADERS: [(&str, &str); 5] = [
    ("cache-control", "no-store"),
    ("referrer-policy", "no-referrer"),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    (
        "content-security-policy",
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
];

const STYLE: &str = "body{font:16px/1.45 system-ui,sans-serif;margin:0 auto;max-width:46em;padding:1em;color:#222}\
h1{font-size:1.3em}fieldset{border:1px solid #ccc;border-radius:6px;margin:0 0 1em;padding:.6em .9em}\
legend{font-weight:600}.meta{color:#555;font-size:.9em;margin:.2em 0 .5em}\
label{display:inline-block;margin:.3em 1.2em .3em 0;padding:.3em 0}input[type=radio]{transform:scale(1.3);margin-right:.4em}\
input[type=text]{width:100%;box-sizing:border-box;padding:.5em;font-size:1em}\
button{font-size:1.05em;padding:.7em 1.4em}.note{background:#eef6ee;border-left:4px solid #3a3;padding:.5em .8em}\
.error{background:#fbeaea;border-left:4px solid #c33;padding:.5em .8em}.done{color:#555}";

fn shell(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t}</title><style>{STYLE}</style></head><body>{body}</body></html>",
        t = escape(title)
    )
}

/// A refusal as a plain page (401 for a bad or expired link, 403, 404, 409).
pub fn refusal(status: u16, message: &str) -> String {
    let title = match status {
        401 => "This link cannot be used",
        403 => "Not yours to decide",
        409 => "This review is closed",
        _ => "Something is wrong with this request",
    };
    shell(title, &format!("<h1>{}</h1><p>{}</p>", escape(title), escape(message)))
}

/// What the page says above the items after a submission.
pub enum Notice {
    Saved(usize),
    Error(String),
}

/// The reviewer's items, each with keep / revoke and a reason, and one submit button; read-only
/// once the campaign is closed.
pub fn render(
    campaign: &Campaign,
    reviewer: &str,
    items: &[&Item],
    form_check: &str,
    notice: Option<&Notice>,
) -> String {
    let open = campaign.status == Status::Open;
    let decided = items.iter().filter(|i| i.decision.is_some()).count();
    let mut b = format!(
        "<h1>Access review {c}</h1><p>For <strong>{r}</strong>: {decided} of {n} decided. Due {due}; \
         anything undecided then counts as <strong>{d}</strong>. Revoking needs a reason.</p>",
        c = escape(&campaign.name),
        r = escape(reviewer),
        n = items.len(),
        due = escape(&campaign.due),
        d = campaign.default,
    );
    match notice {
        Some(Notice::Saved(n)) => b.push_str(&format!("<p class=\"note\" role=\"status\">Saved {n} decision(s).</p>")),
        Some(Notice::Error(e)) => b.push_str(&format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e))),
        None => {}
    }
    if !open {
        b.push_str(&format!(
            "<p class=\"note\">This campaign is {}: decisions can no longer change.</p>",
            campaign.status.as_str()
        ));
    }
    b.push_str("<form method=\"post\">");
    b.push_str(&format!("<input type=\"hidden\" name=\"check\" value=\"{}\">", escape(form_check)));
    for i in items {
        let f = &i.frozen;
        let id = escape(&f.id);
        let checked = |d: Decision| if i.decision == Some(d) { " checked" } else { "" };
        let disabled = if open { "" } else { " disabled" };
        b.push_str(&format!(
            "<fieldset id=\"item-{id}\"><legend>{name} ({emp}, user {user})</legend>\
             <div>{access}</div><div class=\"meta\">{detail}{since}{used}</div>",
            name = escape(&f.display_name),
            emp = escape(&f.employee_id),
            user = escape(&f.user_name),
            access = escape(&f.access.describe(&f.target)),
            detail = escape(&f.detail),
            since = f.since.as_deref().map(|s| format!(" · since {}", escape(s))).unwrap_or_default(),
            used = match &f.last_used {
                Some(u) => format!(" · last used {}", escape(u)),
                None if matches!(f.access, super::Grant::AccessKey | super::Grant::Console) => " · never used".into(),
                None => String::new(),
            },
        ));
        if let Some(d) = i.decision {
            b.push_str(&format!(
                "<div class=\"done\">Decided: <strong>{d}</strong>{}</div>",
                i.decided_at.as_deref().map(|t| format!(" at {}", escape(t))).unwrap_or_default()
            ));
        }
        b.push_str(&format!(
            "<label><input type=\"radio\" name=\"decision.{id}\" value=\"keep\"{k}{disabled}>Keep</label>\
             <label><input type=\"radio\" name=\"decision.{id}\" value=\"revoke\"{r}{disabled}>Revoke</label>\
             <label for=\"reason-{id}\" class=\"meta\">Reason (required to revoke)</label>\
             <input type=\"text\" id=\"reason-{id}\" name=\"reason.{id}\" maxlength=\"500\" value=\"{reason}\"{disabled}>\
             </fieldset>",
            k = checked(Decision::Keep),
            r = checked(Decision::Revoke),
            reason = escape(i.reason.as_deref().unwrap_or_default()),
        ));
    }
    if items.is_empty() {
        b.push_str("<p>You have nothing to review in this campaign.</p>");
    } else if open {
        b.push_str("<button type=\"submit\">Submit decisions</button>");
    }
    b.push_str("</form>");
    shell(&format!("Access review {}", campaign.name), &b)
}
