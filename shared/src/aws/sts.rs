//! STS: who the operator is, for the audit records of their decisions.

use aws_config::SdkConfig;

use super::aws_error;
use crate::error::Error;

/// The ARN of the identity the SDK signs with (`sts:GetCallerIdentity`; needs no permission).
pub async fn caller(sdk: &SdkConfig) -> Result<String, Error> {
    let out = aws_sdk_sts::Client::new(sdk)
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| aws_error("sts:GetCallerIdentity", e))?;
    Ok(out.arn().unwrap_or_default().to_owned())
}
