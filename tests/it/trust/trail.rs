//! The trail: only the archiver writes it, nobody deletes it, auditors read it.

use super::*;

/// The trail lasts and cannot be altered: only the archiver writes records, nobody (an
/// administrator with `Allow *` included) deletes one or loosens its lock, and only the auditors
/// read it. (Object Lock's compliance retention stands behind the policy: even the root user cannot
/// delete a locked version before its retention ends.)
#[test]
fn only_the_archiver_writes_the_trail_nobody_deletes_it_and_auditors_read_it() {
    let s = stack();
    let policy = resource(&s, "TrailBucketPolicy")["PolicyDocument"].clone();
    let on = Resource::Policy(&policy);
    let bucket = format!("arn:aws:s3:::employee-lifecycle-audit-{ACCOUNT}-{REGION}");
    let object = format!("{bucket}/audit/2026/11/29/0123456789abcdef.jsonl");
    let tls = |r: Request| r.with("aws:SecureTransport", &["true"]);
    let write = |key: &str, mode: &str| tls(Request::new("s3:PutObject", key)).with("s3:object-lock-mode", &[mode]);
    let archiver = function_role(&s, "ArchiverRole");
    allowed(&archiver, write(&object, "COMPLIANCE"), on);
    // Every write carries its own compliance lock: without one, or with a governance lock
    // (which a privileged caller could lift), even the archiver's write is refused.
    denied(&archiver, tls(Request::new("s3:PutObject", &object)), on);
    denied(&archiver, write(&object, "GOVERNANCE"), on);
    denied(&archiver, write(&format!("{bucket}/elsewhere.jsonl"), "COMPLIANCE"), on);
    denied(&archiver, write(&object, "COMPLIANCE").with("aws:SecureTransport", &["false"]), on);
    for who in [admin(), allowed_to("app", &format!("arn:aws:iam::{ACCOUNT}:role/app"), &["s3:PutObject"])] {
        denied(&who, write(&object, "COMPLIANCE"), on);
    }
    // The archiver may set an object's retention (compliance mode only ever lengthens it);
    // nobody else may, and nobody deletes or bypasses.
    allowed(&archiver, tls(Request::new("s3:PutObjectRetention", &object)), on);
    denied(&admin(), tls(Request::new("s3:PutObjectRetention", &object)), on);
    for action in ["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:BypassGovernanceRetention"] {
        denied(&admin(), tls(Request::new(action, &object)), on);
        denied(&archiver, tls(Request::new(action, &object)), on);
    }
    // The policy protects itself, the lock, the encryption and the bucket: an administrator with
    // every right is refused (the account's root user alone can still delete a bucket policy).
    for action in [
        "s3:PutBucketObjectLockConfiguration",
        "s3:PutBucketPolicy",
        "s3:DeleteBucketPolicy",
        "s3:PutEncryptionConfiguration",
        "s3:PutBucketVersioning",
        "s3:DeleteBucket",
    ] {
        denied(&admin(), tls(Request::new(action, &bucket)), on);
    }
    // The auditor needs no identity policy: the bucket's own Allow names them.
    let auditor =
        Principal { name: "auditor", arn: AUDITOR.into(), account: ACCOUNT.into(), identity: vec![], boundary: None };
    allowed(&auditor, tls(Request::new("s3:GetObject", &object)), on);
    allowed(&auditor, tls(Request::new("s3:ListBucket", &bucket)), on);
    // What `onboarding audit` calls: every version of every object.
    allowed(&auditor, tls(Request::new("s3:ListBucketVersions", &bucket)), on);
    allowed(&auditor, tls(Request::new("s3:GetObjectVersion", &object)), on);
    denied(&auditor, tls(Request::new("s3:PutObject", &object)), on);
    // Nobody else reads the trail: an employee whose groups grant `*`, an administrator.
    denied(&employee(&s, "jane.doe", "E1"), mfa(tls(Request::new("s3:GetObject", &object))), on);
    denied(&admin(), tls(Request::new("s3:GetObject", &object)), on);
}

/// The auditors decrypt what they read with the stack's key, with no grant of their own: the
/// trail through S3 and their queues through SQS, nothing else and never directly.
#[test]
fn auditors_decrypt_their_queues_and_nothing_else_and_the_trail_needs_no_key() {
    let s = stack();
    let key = resource(&s, "Key")["KeyPolicy"].clone();
    let k = Resource::Key(&key);
    let key_arn = arn("kms", "key/Key");
    let via = |service: &str, context: (&str, &str)| {
        Request::new("kms:Decrypt", &key_arn)
            .with("kms:ViaService", &[&format!("{service}.{REGION}.amazonaws.com")])
            .with(&format!("kms:EncryptionContext:{}", context.0), &[context.1])
    };
    let bucket = format!("arn:aws:s3:::employee-lifecycle-audit-{ACCOUNT}-{REGION}");
    let queue = |name: &str| format!("arn:aws:sqs:{REGION}:{ACCOUNT}:{name}");
    let auditor =
        Principal { name: "auditor", arn: AUDITOR.into(), account: ACCOUNT.into(), identity: vec![], boundary: None };
    // The trail is encrypted with S3-managed keys: no key of the account (whose deletion an
    // insider could schedule) can make it unreadable, and the stack keeps bucket and keys.
    let trail = &s["Resources"]["TrailBucket"];
    let sse = &trail["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0];
    assert_eq!(sse["ServerSideEncryptionByDefault"], json!({"SSEAlgorithm": "AES256"}));
    for id in ["TrailBucket", "Key", "SecretsKey"] {
        assert_eq!(s["Resources"][id]["DeletionPolicy"], "Retain", "{id}");
        assert_eq!(s["Resources"][id]["UpdateReplacePolicy"], "Retain", "{id}");
    }
    // Archiving that stops is alarmed long before the queue's 14 days run out.
    let age = resource(&s, "ArchiveQueueAgeAlarm");
    assert_eq!(age["MetricName"], "ApproximateAgeOfOldestMessage");
    assert!(age["Threshold"].as_f64().is_some_and(|t| t <= 3_600.0), "{age}");
    assert_eq!(resource(&s, "ArchiveQueue")["MessageRetentionPeriod"], 1_209_600);
    for q in ["onboarding-auditors", "onboarding-auditors-dlq", "onboarding-archive-dlq"] {
        allowed(&auditor, via("sqs", ("aws:sqs:arn", &queue(q))), k);
    }
    // Not another bucket or queue of the account, not directly, not the topics.
    denied(&auditor, via("s3", ("aws:s3:arn", "arn:aws:s3:::someone-elses-bucket")), k);
    denied(&auditor, via("sqs", ("aws:sqs:arn", &queue("onboarding-events-dlq"))), k);
    denied(&auditor, via("sns", ("aws:sns:topicArn", &arn("sns", "onboarding-notifications"))), k);
    denied(&auditor, Request::new("kms:Decrypt", &key_arn), k);
    // The key has no statement for the trail any more: nobody decrypts through S3 with it.
    denied(&auditor, via("s3", ("aws:s3:arn", &bucket)), k);
}

/// Records reach the auditors' queue and the trail only from the audit topic, and leave the
/// archive queue only through the archiver: an administrator can neither slip in a forged record
/// nor take one out before it is locked.
#[test]
fn records_enter_the_queues_only_from_the_audit_topic_and_leave_the_archive_only_to_the_trail() {
    let s = stack();
    let topic = arn("sns", "onboarding-audit");
    let sns = sns_service();
    for (policy, queue) in
        [("ArchiveQueuePolicy", "onboarding-archive"), ("AuditorsQueuePolicy", "onboarding-auditors")]
    {
        let doc = resource(&s, policy)["PolicyDocument"].clone();
        let on = Resource::Policy(&doc);
        let send = || Request::new("sqs:SendMessage", &arn("sqs", queue));
        allowed(&sns, send().with("aws:SourceArn", &[&topic]), on);
        denied(&sns, send().with("aws:SourceArn", &[&arn("sns", "another-topic")]), on);
        denied(&admin(), send(), on);
        denied(&function_role(&s, "RecordRole"), send(), on);
    }
    let doc = resource(&s, "ArchiveQueuePolicy")["PolicyDocument"].clone();
    let on = Resource::Policy(&doc);
    for action in ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:PurgeQueue"] {
        let take = Request::new(action, &arn("sqs", "onboarding-archive"));
        denied(&admin(), take.clone(), on);
        denied(&function_role(&s, "SweepRole"), take.clone(), on);
    }
    let archiver = function_role(&s, "ArchiverRole");
    for action in ["sqs:ReceiveMessage", "sqs:DeleteMessage"] {
        allowed(&archiver, Request::new(action, &arn("sqs", "onboarding-archive")), on);
    }
    denied(&archiver, Request::new("sqs:PurgeQueue", &arn("sqs", "onboarding-archive")), on);
}
