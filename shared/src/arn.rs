//! Reading the parts of an ARN (`arn:partition:service:region:account:...`). Pure.

/// The account id in an ARN (`arn:partition:service:region:account:...`).
pub fn account_of(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

/// The region in an ARN.
pub fn region_of(arn: &str) -> Option<&str> {
    arn.split(':').nth(3).filter(|a| !a.is_empty())
}
