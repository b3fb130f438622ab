//! Which Identity Center instance and identity store the config means.

use super::IdentityCenter;
use crate::config::IdentityCenterConfig;
use crate::error::Error;

/// An Identity Center instance and its identity store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    pub arn: String,
    pub identity_store_id: String,
}

impl IdentityCenter {
    /// The configured instance and identity store, or the only ones the caller can see.
    pub async fn instance(&self, cfg: &IdentityCenterConfig) -> Result<Instance, Error> {
        if let (Some(arn), Some(store)) = (&cfg.instance_arn, &cfg.identity_store_id) {
            return Ok(Instance { arn: arn.clone(), identity_store_id: store.clone() });
        }
        choose(cfg, &self.instances().await?)
    }
    /// Every instance the caller can see.
    pub async fn instances(&self) -> Result<Vec<Instance>, Error> {
        let out = self.call("sso:ListInstances", || self.admin.list_instances().send()).await?;
        Ok(out
            .instances()
            .iter()
            .filter_map(|i| {
                Some(Instance {
                    arn: i.instance_arn()?.to_owned(),
                    identity_store_id: i.identity_store_id()?.to_owned(),
                })
            })
            .collect())
    }
}

/// The instance the config means among those the caller sees: the one named, or the only one.
/// A config error names the key to set.
fn choose(cfg: &IdentityCenterConfig, seen: &[Instance]) -> Result<Instance, Error> {
    // The account does not match the config: a conflict, named by the key to set.
    let invalid = |key: &str, why: String| Error::Conflict(format!("identity_center.{key}: {why}"));
    let found = match &cfg.instance_arn {
        Some(arn) => seen.iter().find(|i| &i.arn == arn).ok_or_else(|| {
            invalid("instance_arn", format!("`{arn}` is not an instance the caller can see (sso:ListInstances)"))
        })?,
        None => match seen {
            [one] => one,
            [] => {
                return Err(invalid(
                    "instance_arn",
                    "the caller sees no Identity Center instance: enable IAM Identity Center, or set this key".into(),
                ));
            }
            many => {
                let arns: Vec<&str> = many.iter().map(|i| i.arn.as_str()).collect();
                return Err(invalid(
                    "instance_arn",
                    format!("the caller sees {} instances; set one of {}", many.len(), arns.join(", ")),
                ));
            }
        },
    };
    match &cfg.identity_store_id {
        Some(store) if store != &found.identity_store_id => Err(invalid(
            "identity_store_id",
            format!("`{store}` is not the identity store of {} ({})", found.arn, found.identity_store_id),
        )),
        _ => Ok(found.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(arn: Option<&str>, store: Option<&str>) -> IdentityCenterConfig {
        IdentityCenterConfig {
            instance_arn: arn.map(str::to_owned),
            identity_store_id: store.map(str::to_owned),
            portal_url: "https://example.awsapps.com/start".into(),
            max_tps: 20,
            people_table: "employee-lifecycle-people".into(),
            skip_user_updates: None,
            permission_sets: Vec::new(),
            assignments: Vec::new(),
        }
    }

    fn instance(n: u8) -> Instance {
        Instance { arn: format!("arn:aws:sso:::instance/ssoins-{n}"), identity_store_id: format!("d-000000000{n}") }
    }

    #[test]
    fn the_only_instance_is_found_and_anything_else_names_the_key() {
        assert_eq!(choose(&cfg(None, None), &[instance(1)]).expect("the only one"), instance(1));
        let named = cfg(Some("arn:aws:sso:::instance/ssoins-2"), None);
        assert_eq!(choose(&named, &[instance(1), instance(2)]).expect("named"), instance(2));
        let cases = [
            (cfg(None, None), vec![], "identity_center.instance_arn", "no Identity Center instance"),
            (cfg(None, None), vec![instance(1), instance(2)], "identity_center.instance_arn", "ssoins-2"),
            (named.clone(), vec![instance(1)], "identity_center.instance_arn", "not an instance"),
            (cfg(None, Some("d-0000000009")), vec![instance(1)], "identity_center.identity_store_id", "d-0000000001"),
        ];
        for (c, seen, key, says) in cases {
            let e = choose(&c, &seen).expect_err(key).to_string();
            assert!(e.contains(key) && e.contains(says), "{e}");
        }
    }
}
