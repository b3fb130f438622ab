//! What an event asks for, derived without I/O: for a hire, the validated hire, the base user
//! name, the groups and the tags; for a change or a departure, the validated event. Every step
//! derives it again from the event it is handed (it is cheap and deterministic), so a bad event
//! fails before any AWS call, in whichever step sees it first.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::config::Config;
use crate::error::ValidationError;
use crate::event::{self, Change, Departure, EventMeta, Hire, HrEvent};
use crate::mapping::{Attributes, Membership};
use crate::{tags, username};

/// A validated request of any detail-type.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    Hire(Intent),
    Change(Change),
    Depart(Departure),
}

impl Request {
    pub fn from_event(cfg: &Config, raw: &Value) -> Result<Self, ValidationError> {
        Ok(match event::parse(raw)? {
            HrEvent::Hired(hire) => Request::Hire(Intent::for_hire(cfg, hire)?),
            HrEvent::Changed(c) => Request::Change(c),
            HrEvent::Departed(d) => Request::Depart(d),
        })
    }

    pub fn meta(&self) -> &EventMeta {
        match self {
            Request::Hire(i) => &i.hire.meta,
            Request::Change(c) => &c.meta,
            Request::Depart(d) => &d.meta,
        }
    }
}

/// What a hire asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Intent {
    pub hire: Hire,
    /// The first user-name candidate; taken names get numbered variants.
    pub base_name: String,
    pub membership: Membership,
    /// The HR-attribute tags the user should carry.
    pub tags: BTreeMap<String, String>,
}

impl Intent {
    pub fn for_hire(cfg: &Config, hire: Hire) -> Result<Self, ValidationError> {
        let base_name = username::base(hire.first_name(), &hire.family_name).map_err(|e| {
            if hire.preferred_name.is_some() {
                ValidationError::new(e.field.replace("givenName", "preferredName"), e.message)
            } else {
                e
            }
        })?;
        let membership = cfg.groups.resolve(Attributes {
            department: &hire.department,
            title: hire.title.as_deref(),
            location: hire.location.as_deref(),
        })?;
        let tags = tags::desired(&hire);
        tags::validate(&tags)?;
        Ok(Self { hire, base_name, membership, tags })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cfg() -> Config {
        Config::shipped().expect("shipped config")
    }

    fn ev(detail: Value) -> Value {
        json!({"id": "x", "detail-type": "Employee Hired", "source": "hr", "time": "2026-11-02T09:00:00Z", "detail": detail})
    }

    fn hire_intent(cfg: &Config, raw: &Value) -> Result<Intent, ValidationError> {
        match Request::from_event(cfg, raw)? {
            Request::Hire(i) => Ok(i),
            other => panic!("not a hire: {other:?}"),
        }
    }

    #[test]
    fn derives_name_groups_and_tags() {
        let i = hire_intent(
            &cfg(),
            &ev(json!({"eventId": "e", "employeeId": "E7", "givenName": "Robert", "preferredName": "Bob",
                 "familyName": "Smith", "email": "bob@example.com", "department": "Engineering",
                 "startDate": "2026-12-01", "title": "VP, Platform & Ops"})),
        )
        .expect("valid");
        assert_eq!(i.base_name, "bob.smith");
        assert_eq!(i.membership.groups, ["AllEmployees", "Developers"]);
        assert_eq!(i.tags["title"], "VP Platform Ops");
        assert_eq!(i.tags[tags::EMPLOYEE_ID], "E7");
        assert_eq!(i.tags[tags::MANAGED_BY], tags::MANAGED_BY_VALUE);
    }

    #[test]
    fn a_name_with_nothing_usable_is_named() {
        let e = hire_intent(
            &cfg(),
            &ev(json!({"eventId": "e", "employeeId": "E7", "givenName": "???", "familyName": "!!!",
                 "email": "x@example.com", "department": "Legal", "startDate": "2026-12-01"})),
        )
        .expect_err("no usable name");
        assert!(e.field.contains("familyName"), "{e}");
    }
}
