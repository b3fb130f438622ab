//! A small, deterministic evaluator of IAM policies, for proving who *can* do what: the emulator
//! evaluates no policy at all. It implements the parts of AWS's documented evaluation logic that
//! this system's documents use, and fails loudly (panics) on anything else, so a test can never
//! pass by silently ignoring a statement:
//!
//! 1. An explicit `Deny` in any applicable policy (identity, permissions boundary, resource
//!    policy) wins.
//! 2. Within one account, a request is allowed when an identity policy allows it **and** the
//!    boundary (if any) allows it, **or** when the resource policy allows the principal. A
//!    resource-policy grant that names a user or a role session by ARN, or everyone (`*`), is not
//!    limited by that principal's boundary; one that names a role's ARN is; one that names the
//!    account (its root) only delegates to the account's IAM policies.
//! 3. KMS: the key policy is authoritative. An identity policy counts only when a key-policy
//!    statement allows the account root (delegation to IAM) for the request.
//! 4. Across accounts (the resource's account, from its ARN, is not the principal's), both sides must allow: the identity policy (within the boundary) and the
//!    resource policy; without a resource policy, nothing is allowed.
//! 5. Otherwise the request is implicitly denied.
//! 6. Service control policies ([`evaluate_under`]) come first: an explicit Deny in one wins,
//!    and one must allow.
//!
//! Condition key names compare case-insensitively; `ArnLike` matches part by part; a
//! `ForAnyValue:` condition on an absent key fails (negated or not); a service principal (e.g.
//! `sns.amazonaws.com`) carries `aws:PrincipalIsAWSService = true` and no account.
//!
//! [`decide`] asks the independent simulator the same question and fails when the answers differ.
//!
//! Elements: `Action`/`NotAction`, `Resource`/`NotResource` with `*` and `?` wildcards and the
//! `${aws:username}` policy variable, `Principal` (`*`, `AWS` ARNs or account root, `Service`),
//! and the condition operators `String[Not]Equals`, `String[Not]Like`, `Arn[Not]Equals`,
//! `Arn[Not]Like`, `Bool`, `Null`, each with `...IfExists` and the `ForAllValues:`/`ForAnyValue:`
//! set prefixes. A condition on a key absent from the request matches for the negated operators
//! and `IfExists`, and fails otherwise; `ForAllValues` on an absent key matches.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::simulator::Verdict;

/// Who makes the request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub name: &'static str,
    pub arn: String,
    pub account: String,
    /// Identity policies (attached, inline and through groups).
    pub identity: Vec<Value>,
    pub boundary: Option<Value>,
}

/// The request: action, resource ARN (`*` for actions without a resource type) and the
/// condition keys it carries besides the principal's own.
#[derive(Debug, Clone)]
pub struct Request {
    pub action: String,
    pub resource: String,
    pub context: BTreeMap<String, Vec<String>>,
}

impl Request {
    pub fn new(action: &str, resource: &str) -> Self {
        Self { action: action.into(), resource: resource.into(), context: BTreeMap::new() }
    }

    /// The account that owns the resource: the ARN's account field, else (`*`, S3 ARNs, which
    /// carry none) the principal's: every S3 resource these tests name is the stack's own.
    pub fn resource_account(&self, p: &Principal) -> String {
        match self.resource.split(':').nth(4) {
            Some(a) if !a.is_empty() && a != "*" => a.to_owned(),
            _ => p.account.clone(),
        }
    }

    pub fn with(mut self, key: &str, values: &[&str]) -> Self {
        self.context.insert(key.to_owned(), values.iter().map(|v| (*v).to_owned()).collect());
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    /// Denied by an explicit `Deny`; names the policy and statement.
    ExplicitDeny(String),
    ImplicitDeny,
}

impl Decision {
    pub fn allowed(&self) -> bool {
        *self == Decision::Allowed
    }
}

/// Which kind of resource policy applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource<'a> {
    /// None at all (IAM users, groups, roles as resources; anything without one).
    None,
    /// A resource-based policy (secret, bus, topic, queue): rule 2.
    Policy(&'a Value),
    /// A KMS key policy: rule 3.
    Key(&'a Value),
}

/// The request's full context: what it carries plus the principal's global keys.
fn context(p: &Principal, r: &Request) -> BTreeMap<String, Vec<String>> {
    let mut c = r.context.clone();
    let service = is_service(p);
    c.entry("aws:PrincipalIsAWSService".into()).or_insert_with(|| vec![service.to_string()]);
    if service {
        c.entry("aws:PrincipalServiceName".into()).or_insert_with(|| vec![p.arn.clone()]);
        return c;
    }
    c.entry("aws:PrincipalArn".into()).or_insert_with(|| vec![p.arn.clone()]);
    c.entry("aws:PrincipalAccount".into()).or_insert_with(|| vec![p.account.clone()]);
    if let Some(user) = p.arn.split(":user/").nth(1).and_then(|path| path.rsplit('/').next()) {
        c.entry("aws:username".into()).or_insert_with(|| vec![user.to_owned()]);
    }
    c
}

/// Decides one request with both evaluators, ours ([`evaluate`]) and the independent simulator
/// ([`crate::simulator`]), and fails naming both answers when they differ. Every trust claim is
/// decided here.
#[track_caller]
pub fn decide(p: &Principal, r: &Request, resource: Resource<'_>) -> Decision {
    decide_under(&[], p, r, resource)
}

/// [`decide`] in an account whose organization applies `scps` (service control policies, one
/// level, each a ceiling: `FullAWSAccess` must be among them for anything to be allowed).
#[track_caller]
pub fn decide_under(scps: &[Value], p: &Principal, r: &Request, resource: Resource<'_>) -> Decision {
    let ours = evaluate_under(scps, p, r, resource);
    let resource_policy = match resource {
        Resource::Policy(d) | Resource::Key(d) => Some(d),
        Resource::None => None,
    };
    let question = crate::simulator::Question {
        principal: &p.arn,
        action: &r.action,
        resource: &r.resource,
        resource_account: &r.resource_account(p),
        context: &context(p, r),
        identity: &p.identity,
        boundary: p.boundary.as_ref(),
        resource_policy,
        scps,
    };
    let theirs = crate::simulator::ask(&question).unwrap_or_else(|e| {
        panic!("the independent simulator refused {} doing {} on {}: {e}", p.name, r.action, r.resource)
    });
    let agree = matches!(
        (&ours, theirs.verdict),
        (Decision::Allowed, Verdict::Allowed)
            | (Decision::ExplicitDeny(_), Verdict::ExplicitlyDenied)
            | (Decision::ImplicitDeny, Verdict::ImplicitlyDenied)
    );
    assert!(
        agree,
        "the two evaluators disagree on {} doing {} on {}: ours says {ours:?}, the independent simulator {:?} \
         (context keys it did not know: {:?})",
        p.name, r.action, r.resource, theirs.verdict, theirs.ignored_context_keys
    );
    ours
}

/// [`evaluate`] under service control policies: an explicit Deny in one wins, and one of them
/// must allow the request; they bind every principal of the account, never an AWS service.
pub fn evaluate_under(scps: &[Value], p: &Principal, r: &Request, resource: Resource<'_>) -> Decision {
    if !scps.is_empty() && !is_service(p) {
        let ctx = context(p, r);
        if let Some(deny) = explicit_deny(scps.iter().map(|d| ("scp", d, false)), p, r, &ctx) {
            return deny;
        }
        if !scps.iter().any(|d| allows(d, p, r, &ctx, false)) {
            return Decision::ImplicitDeny;
        }
    }
    evaluate(p, r, resource)
}

/// An AWS service as a principal (`sns.amazonaws.com`), not an ARN.
fn is_service(p: &Principal) -> bool {
    !p.arn.starts_with("arn:") && p.arn.ends_with(".amazonaws.com")
}

/// Rule 1: the first explicit Deny among the documents, named by document and statement.
fn explicit_deny<'d>(
    documents: impl IntoIterator<Item = (&'d str, &'d Value, bool)>,
    p: &Principal,
    r: &Request,
    ctx: &BTreeMap<String, Vec<String>>,
) -> Option<Decision> {
    documents.into_iter().find_map(|(name, doc, is_resource)| {
        statements(doc)
            .find(|s| s["Effect"] == "Deny" && applies(s, p, r, ctx, is_resource))
            .map(|s| Decision::ExplicitDeny(format!("{name}: {}", s["Sid"].as_str().unwrap_or("(no Sid)"))))
    })
}

/// Whether a statement of the document allows the request.
fn allows(doc: &Value, p: &Principal, r: &Request, ctx: &BTreeMap<String, Vec<String>>, is_resource: bool) -> bool {
    statements(doc).any(|s| s["Effect"] == "Allow" && applies(s, p, r, ctx, is_resource))
}

/// Decides one request by this project's reading of IAM's rules alone.
pub fn evaluate(p: &Principal, r: &Request, resource: Resource<'_>) -> Decision {
    let ctx = context(p, r);
    let mut documents: Vec<(&str, &Value, bool)> = p.identity.iter().map(|d| ("identity", d, false)).collect();
    if let Some(b) = &p.boundary {
        documents.push(("boundary", b, false));
    }
    let resource_doc = match resource {
        Resource::Policy(d) => Some(("resource policy", d)),
        Resource::Key(d) => Some(("key policy", d)),
        Resource::None => None,
    };
    if let Some((name, d)) = resource_doc {
        documents.push((name, d, true));
    }
    // Rule 1: an explicit Deny anywhere wins.
    if let Some(deny) = explicit_deny(documents, p, r, &ctx) {
        return deny;
    }
    let identity = p.identity.iter().any(|d| allows(d, p, r, &ctx, false));
    let boundary = p.boundary.as_ref().is_none_or(|b| allows(b, p, r, &ctx, false));
    let same_account = r.resource_account(p) == p.account;
    let decision = match resource {
        Resource::None => same_account && identity && boundary,
        Resource::Policy(doc) | Resource::Key(doc) => {
            let granting: Vec<&Value> =
                statements(doc).filter(|s| s["Effect"] == "Allow" && applies(s, p, r, &ctx, true)).collect();
            // A grant to the account (its root) delegates to the account's IAM policies.
            let to_account = granting.iter().any(|s| names_only_root(s, &p.account));
            let direct: Vec<&&Value> = granting.iter().filter(|s| !names_only_root(s, &p.account)).collect();
            // Rule 2: a grant that names a user or role session (or everyone) is not limited by
            // that principal's boundary; one naming a role's ARN is.
            let exempt = p.arn.contains(":user/") || p.arn.contains(":assumed-role/");
            let by_resource = direct.iter().any(|s| {
                let named = principals(s).iter().any(|x| x == &p.arn) || wildcard_principal(s);
                (named && exempt) || (wildcard_principal(s) && p.arn.contains(":role/")) || boundary
            });
            // Rule 3: a key trusts the account's IAM policies only where its policy says so.
            let trusts_iam = match resource {
                Resource::Key(_) => to_account,
                _ => same_account || to_account,
            };
            if same_account {
                (identity && boundary && trusts_iam) || by_resource
            } else {
                identity && boundary && (to_account || !direct.is_empty())
            }
        }
    };
    if decision { Decision::Allowed } else { Decision::ImplicitDeny }
}

fn statements(doc: &Value) -> impl Iterator<Item = &Value> {
    match &doc["Statement"] {
        Value::Array(a) => a.iter().collect::<Vec<_>>().into_iter(),
        s @ Value::Object(_) => vec![s].into_iter(),
        other => panic!("policy without statements: {other}"),
    }
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => {
            a.iter().map(|x| x.as_str().unwrap_or_else(|| panic!("not a string: {x}")).to_owned()).collect()
        }
        Value::Bool(b) => vec![b.to_string()],
        other => panic!("expected a string or a list of strings, got {other}"),
    }
}

/// The `AWS` principals a resource-policy statement names (`*` for everyone).
fn principals(s: &Value) -> Vec<String> {
    match &s["Principal"] {
        Value::String(x) => vec![x.clone()],
        Value::Object(o) => o.get("AWS").map(strings).unwrap_or_default(),
        Value::Null => Vec::new(),
        other => panic!("unsupported Principal {other}"),
    }
}

/// Whether a resource-policy statement's `Principal` is everyone (`"*"` or `{"AWS": "*"}`).
fn wildcard_principal(s: &Value) -> bool {
    s["Principal"] == "*" || principals(s).iter().any(|x| x == "*")
}

fn names_only_root(s: &Value, account: &str) -> bool {
    let p = principals(s);
    !p.is_empty() && p.iter().all(|x| x == &format!("arn:aws:iam::{account}:root") || x == account)
}

/// Whether a statement covers the request (its effect aside).
fn applies(s: &Value, p: &Principal, r: &Request, ctx: &BTreeMap<String, Vec<String>>, is_resource: bool) -> bool {
    for key in s.as_object().expect("statement").keys() {
        assert!(
            ["Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "Condition"]
                .contains(&key.as_str()),
            "unsupported statement element {key}"
        );
    }
    let action = match (&s["Action"], &s["NotAction"]) {
        (a, Value::Null) if !a.is_null() => {
            strings(a).iter().any(|x| like(&x.to_lowercase(), &r.action.to_lowercase()))
        }
        (Value::Null, n) if !n.is_null() => {
            !strings(n).iter().any(|x| like(&x.to_lowercase(), &r.action.to_lowercase()))
        }
        _ => panic!("statement needs exactly one of Action and NotAction: {s}"),
    };
    if !action {
        return false;
    }
    let resource_matches = |pattern: &String| match substitute(pattern, ctx) {
        Some(pat) => like(&pat, &r.resource) || (pat == "*"),
        None => false,
    };
    let resource = match (&s["Resource"], &s["NotResource"]) {
        (a, Value::Null) if !a.is_null() => strings(a).iter().any(resource_matches),
        (Value::Null, n) if !n.is_null() => !strings(n).iter().any(resource_matches),
        (Value::Null, Value::Null) if is_resource => true,
        _ => panic!("statement needs exactly one of Resource and NotResource: {s}"),
    };
    if !resource {
        return false;
    }
    if is_resource {
        let named = match &s["Principal"] {
            Value::String(x) if x == "*" => true,
            Value::Object(o) => {
                let aws = o.get("AWS").map(strings).unwrap_or_default().iter().any(|x| {
                    x == "*" || x == &p.arn || x == &format!("arn:aws:iam::{}:root", p.account) || x == &p.account
                });
                let service = o.get("Service").map(strings).unwrap_or_default().iter().any(|x| x == &p.arn);
                aws || service
            }
            other => panic!("resource-policy statement with Principal {other}"),
        };
        if !named {
            return false;
        }
    }
    match &s["Condition"] {
        Value::Null => true,
        Value::Object(ops) => ops.iter().all(|(op, keys)| {
            keys.as_object().expect("condition block").iter().all(|(k, want)| condition(op, k, &strings(want), ctx))
        }),
        other => panic!("unsupported Condition {other}"),
    }
}

/// `${aws:username}` and other `${key}` variables from the request context; `None` when a
/// variable cannot be resolved (AWS then does not match the statement).
fn substitute(text: &str, ctx: &BTreeMap<String, Vec<String>>) -> Option<String> {
    expand(text, |key| ctx.get(key)?.first().cloned())
}

/// `text` with every `${key}` replaced by `value(key)`; `None` when a value is missing.
fn expand(text: &str, value: impl Fn(&str) -> Option<String>) -> Option<String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let end = rest[i..].find('}').map(|e| i + e).expect("unclosed ${");
        out.push_str(&value(&rest[i + 2..end])?);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

fn condition(op: &str, key: &str, want: &[String], ctx: &BTreeMap<String, Vec<String>>) -> bool {
    let (set, op) = match op.split_once(':') {
        Some((s @ ("ForAllValues" | "ForAnyValue"), rest)) => (Some(s), rest),
        _ => (None, op),
    };
    let (op, if_exists) = match op.strip_suffix("IfExists") {
        Some(base) => (base, true),
        None => (op, false),
    };
    let want: Vec<String> =
        want.iter().map(|w| substitute(w, ctx).unwrap_or_else(|| "\u{0}unresolved".into())).collect();
    // Condition key names are case-insensitive; values are not.
    let have = ctx.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v);
    if op == "Null" {
        let absent = have.is_none_or(Vec::is_empty);
        return want.iter().any(|w| (w == "true") == absent);
    }
    let negated = matches!(op, "StringNotEquals" | "StringNotLike" | "ArnNotEquals" | "ArnNotLike");
    let one = |v: &str| -> bool {
        let hit = want.iter().any(|w| match op {
            "StringEquals" | "StringNotEquals" | "ArnEquals" | "ArnNotEquals" => w == v,
            "StringLike" | "StringNotLike" => like(w, v),
            "ArnLike" | "ArnNotLike" => arn_like(w, v),
            "Bool" => w.eq_ignore_ascii_case(v),
            other => panic!("unsupported condition operator {other}"),
        });
        if negated { !hit } else { hit }
    };
    match (have, set) {
        (None, Some("ForAllValues")) => true,
        // No value, so none matches, negated or not.
        (None, Some(_)) => if_exists,
        (None, None) => if_exists || negated,
        (Some(vs), Some("ForAllValues")) => vs.iter().all(|v| one(v)),
        (Some(vs), Some(_)) => vs.iter().any(|v| one(v)),
        // A single-valued key: negated operators require that no value matches.
        (Some(vs), None) if negated => vs.iter().all(|v| one(v)),
        (Some(vs), None) => vs.iter().any(|v| one(v)),
    }
}

/// `ArnLike`: the six colon-separated parts of an ARN matched one by one, so a wildcard never
/// spans a colon between parts (the last part, the resource, may hold colons of its own).
pub fn arn_like(pattern: &str, arn: &str) -> bool {
    let (p, a): (Vec<&str>, Vec<&str>) = (pattern.splitn(6, ':').collect(), arn.splitn(6, ':').collect());
    p.len() == 6 && a.len() == 6 && p.iter().zip(&a).all(|(p, a)| like(p, a))
}

/// IAM's wildcard match: `*` any run of characters (slashes and colons included), `?` one.
pub fn like(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// A CloudFormation document with its intrinsics resolved: `Ref`, `Fn::GetAtt`, `Fn::Sub`
/// (`${X}`, `${X.Attr}`, and `${!x}` for a literal `${x}`), `Fn::Join`, `Fn::Split`,
/// `Fn::Select`, and `Fn::If` (the condition's value under `Condition:Name`; a branch
/// `Ref: AWS::NoValue` drops the element). `vars` maps `X` and `X.Attr` to a string or, for a
/// list parameter, an array.
pub fn render(v: &Value, vars: &BTreeMap<String, Value>) -> Value {
    let lookup = |k: &str| vars.get(k).cloned().unwrap_or_else(|| panic!("no value for `{k}` in the test's stack"));
    let args = |o: &serde_json::Map<String, Value>, f: &str| -> Vec<Value> {
        o[f].as_array().unwrap_or_else(|| panic!("{f} takes a list")).iter().map(|x| render(x, vars)).collect()
    };
    let text = |v: &Value| v.as_str().unwrap_or_else(|| panic!("a string, not {v}")).to_owned();
    match v {
        Value::Object(o) if o.len() == 1 && o.get("Ref") == Some(&Value::from("AWS::NoValue")) => no_value(),
        Value::Object(o) if o.len() == 1 && o.contains_key("Fn::If") => {
            let a = o["Fn::If"].as_array().expect("Fn::If takes a list");
            let name = a[0].as_str().expect("a condition name");
            let holds = lookup(&format!("Condition:{name}")).as_bool().expect("a condition is a bool");
            render(&a[if holds { 1 } else { 2 }], vars)
        }
        Value::Object(o) if o.len() == 1 && o.contains_key("Fn::Join") => {
            let a = args(o, "Fn::Join");
            let parts = a[1].as_array().expect("Fn::Join joins a list").iter().map(text).collect::<Vec<_>>();
            Value::String(parts.join(&text(&a[0])))
        }
        Value::Object(o) if o.len() == 1 && o.contains_key("Fn::Split") => {
            let a = args(o, "Fn::Split");
            Value::Array(text(&a[1]).split(&text(&a[0])).map(Value::from).collect())
        }
        Value::Object(o) if o.len() == 1 && o.contains_key("Fn::Select") => {
            let a = args(o, "Fn::Select");
            let i = a[0].as_u64().or_else(|| a[0].as_str().and_then(|s| s.parse().ok())).expect("an index") as usize;
            a[1][i].clone()
        }
        Value::Object(o) if o.len() == 1 && o.contains_key("Ref") => lookup(o["Ref"].as_str().expect("Ref")),
        Value::Object(o) if o.len() == 1 && o.contains_key("Fn::GetAtt") => {
            let a = o["Fn::GetAtt"].as_array().expect("GetAtt");
            lookup(&format!("{}.{}", a[0].as_str().expect("id"), a[1].as_str().expect("attr")))
        }
        Value::Object(o) if o.len() == 1 && o.contains_key("Fn::Sub") => {
            let text = o["Fn::Sub"].as_str().expect("the plain Fn::Sub form");
            let out = expand(text, |key| {
                Some(match key.strip_prefix('!') {
                    Some(literal) => format!("${{{literal}}}"),
                    None => lookup(key).as_str().unwrap_or_else(|| panic!("`{key}` is not a string")).to_owned(),
                })
            });
            Value::String(out.expect("every Fn::Sub variable resolves"))
        }
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), render(v, vars))).collect()),
        Value::Array(a) => Value::Array(a.iter().map(|x| render(x, vars)).filter(|x| *x != no_value()).collect()),
        other => other.clone(),
    }
}

/// What `Ref: AWS::NoValue` renders to, until the list holding it drops it.
fn no_value() -> Value {
    serde_json::json!({"AWS::NoValue": true})
}
