//! Who a step works for, and the user it acts on.

/// Who a step works for, as the messages and credentials need it: from a hire event, or from
/// the user's tags when the sweep activates a pre-hire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub employee_id: String,
    pub first_name: String,
    pub full_name: String,
    pub email: String,
    pub manager_email: Option<String>,
    pub access: crate::event::Access,
    /// Seeds request tokens and marks the welcome: the hire's event id, or the sweep's.
    pub seed: String,
}

impl Person {
    pub fn from_hire(h: &crate::event::Hire) -> Self {
        Self {
            employee_id: h.meta.employee_id.clone(),
            first_name: h.first_name().to_owned(),
            full_name: format!("{} {}", h.first_name(), h.family_name),
            email: h.email.clone(),
            manager_email: h.manager_email.clone(),
            access: h.access,
            seed: h.meta.event_id.clone(),
        }
    }

    /// From the tags `tag-user` wrote; `None` when a tag the messages need is missing.
    pub fn from_tags(tags: &std::collections::BTreeMap<String, String>, seed: String) -> Option<Self> {
        use crate::tags::{ACCESS, DISPLAY_NAME, EMAIL, EMPLOYEE_ID, GIVEN_NAME, MANAGER_EMAIL};
        let access = tags.get(ACCESS).map(String::as_str).unwrap_or("console");
        Some(Self {
            employee_id: tags.get(EMPLOYEE_ID)?.clone(),
            first_name: tags.get(GIVEN_NAME)?.clone(),
            full_name: tags.get(DISPLAY_NAME).or(tags.get(GIVEN_NAME))?.clone(),
            email: tags.get(EMAIL)?.clone(),
            manager_email: tags.get(MANAGER_EMAIL).cloned(),
            access: crate::event::Access {
                console: access.contains("console"),
                programmatic: access.contains("programmatic"),
            },
            seed,
        })
    }
}

/// The user a step acts on.
#[derive(Debug, Clone, Copy)]
pub struct UserRef<'a> {
    pub name: &'a str,
    pub arn: &'a str,
    /// False only in a dry run for a user not created yet.
    pub exists: bool,
    /// Created by this delivery, in this process ([`super::identity::Target::made_here`]).
    pub made_here: bool,
    /// Its tags as read at the start of the step.
    pub tags: &'a std::collections::BTreeMap<String, String>,
}
