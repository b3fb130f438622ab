//! A lifecycle change: the people record, and what of it the Identity Store user holds.

use std::collections::BTreeMap;

use aws_smithy_types::Document;

use super::{record_label, user_id};
use crate::audit::Outcome;
use crate::context::{Ctx, IdentityCenterTarget};
use crate::error::Error;
use crate::person::UserRef;
use crate::tags::{self, EMPLOYEE_ID};
use crate::trail::Trail;

/// What of a lifecycle change the Identity Store user itself holds, as `UpdateUser` attribute
/// operations: the title, the display and given names, the work email (primary).
pub(crate) fn store_attributes(set: &BTreeMap<String, String>) -> Vec<(&'static str, Document)> {
    let text = |v: &String| Document::String(v.clone());
    let mut changes = Vec::new();
    if let Some(v) = set.get(tags::TITLE) {
        changes.push(("title", text(v)));
    }
    if let Some(v) = set.get(tags::DISPLAY_NAME) {
        changes.push(("displayName", text(v)));
    }
    if let Some(v) = set.get(tags::GIVEN_NAME) {
        changes.push(("name.givenName", text(v)));
    }
    if let Some(v) = set.get(tags::EMAIL) {
        let email = [("value", text(v)), ("type", Document::String("work".into())), ("primary", Document::Bool(true))];
        let email = email.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        changes.push(("emails", Document::Array(vec![Document::Object(email)])));
    }
    changes
}

/// Writes a lifecycle change to the person's record: one conditional update, so the order of
/// sets and removals an IAM user's 50-tag limit asks for does not arise. What of it the Identity
/// Store user holds (title, names, email) is written to the user first: a crash in between
/// leaves the record behind, and the retry, computing the difference again, writes both.
pub(crate) async fn write_lifecycle(
    ctx: &Ctx,
    t: &IdentityCenterTarget,
    trail: &mut Trail<'_>,
    user: &UserRef<'_>,
    diff: tags::TagDiff,
) -> Result<Outcome, Error> {
    let employee_id = user
        .tags
        .get(EMPLOYEE_ID)
        .ok_or_else(|| Error::Untrusted(format!("user `{}` carries no employee id", user.name)))?;
    let attributes = store_attributes(&diff.set);
    if !attributes.is_empty() && user.exists && !t.skip_user_updates(&ctx.aws) {
        let update = t.ic.update_user(&t.instance.identity_store_id, user_id(user)?, &attributes);
        trail.apply("identitystore:UpdateUser", user.arn, update).await?;
    }
    let remove: Vec<&str> = diff.remove.iter().map(String::as_str).collect();
    let write = ctx.aws.people.set_lifecycle(&t.people_table, employee_id, &diff.set, &remove);
    trail.apply("dynamodb:UpdateItem", &record_label(t, employee_id), write).await?;
    // A rehire: the revocation mark is gone from the record, so the permission sets stop denying
    // the person now, not when their entry would have expired.
    #[cfg(feature = "secrets")]
    if remove.contains(&tags::ACCESS_REVOKED) {
        super::end_sessions(ctx, t, trail, None).await?;
    }
    Ok(trail.change())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_writes_the_title_names_and_work_email_the_identity_store_holds_and_nothing_else() {
        let set: BTreeMap<String, String> = [
            (tags::TITLE, "Financial Analyst"),
            (tags::GIVEN_NAME, "Janie"),
            (tags::EMAIL, "jane.doe@example.com"),
            (tags::DEPARTMENT, "Finance"),
            (tags::LAST_EVENT_TIME, "2026-11-26T10:00:00Z"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let changes = store_attributes(&set);
        let paths: Vec<&str> = changes.iter().map(|(p, _)| *p).collect();
        assert_eq!(paths, ["title", "name.givenName", "emails"]);
        assert_eq!(changes[0].1, Document::String("Financial Analyst".into()));
        let Document::Array(emails) = &changes[2].1 else { panic!("emails is a list: {:?}", changes[2].1) };
        let Document::Object(email) = &emails[0] else { panic!("an email is an object") };
        assert_eq!(email.get("value"), Some(&Document::String("jane.doe@example.com".into())));
        assert_eq!(email.get("primary"), Some(&Document::Bool(true)));
        assert!(store_attributes(&BTreeMap::new()).is_empty(), "a lifecycle-only change writes no attribute");
    }
}
