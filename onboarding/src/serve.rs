//! `onboarding serve`: HR's front door for teams running locally or in a container. The same
//! verification, mapping and answers as the deployed `intake` function ([`shared::intake`]);
//! accepted events then run through the pipeline in this process, one at a time in arrival
//! order (so each person's events keep their order), from a bounded queue. A full queue answers
//! `503` (the sender retries). On Ctrl-C or SIGTERM it stops accepting, answers the requests
//! already read, finishes every accepted event, and exits.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use shared::audit::AuditRecord;
use shared::event::HrEvent;
use shared::intake::{Audit, HandOn, Intake, MemoryDedupe, Request};
use shared::pipeline::EventReport;
use shared::steps::Ctx;
use shared::webhook::{self, Answer};
use tokio::sync::mpsc;

use crate::output::Output;

/// Accepted events, waiting for the pipeline.
struct Queue(mpsc::Sender<Value>);

impl HandOn for Queue {
    async fn hand_on(&self, envelope: &Value, _: &HrEvent) -> Result<(), shared::Error> {
        self.0.try_send(envelope.clone()).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => shared::Error::Input("the queue is full".into()),
            mpsc::error::TrySendError::Closed(_) => shared::Error::Input("shutting down".into()),
        })
    }
}

struct CtxAudit(Arc<Ctx>);

impl Audit for CtxAudit {
    async fn audit(&self, record: &AuditRecord) -> Result<(), shared::Error> {
        self.0.audit(record).await
    }
}

type LocalIntake = Intake<MemoryDedupe, Queue, CtxAudit>;

/// What this server answers: HR's webhooks, and the access reviews' page when it has the key.
struct Doors {
    intake: LocalIntake,
    reviews: Option<shared::review::token::Key>,
    ctx: Arc<Ctx>,
}

/// Serves until Ctrl-C or SIGTERM. Prints `listening on http://ADDR` first, then one report per
/// processed event, in `format`. Returns how many events failed.
pub async fn serve(ctx: Ctx, listen: &str, queue: usize, format: Output, out: &mut dyn Write) -> Result<usize, String> {
    let mut sources = BTreeMap::new();
    for src in &ctx.cfg.intake.sources {
        let secrets = webhook::local_secrets(src).map_err(|e| e.to_string())?;
        sources.insert(src.name.clone(), secrets);
    }
    // The access reviews' page, when `[review]` names its key.
    let reviews = match (&ctx.cfg.review.key_env, &ctx.cfg.review.key_file) {
        (None, None) => None,
        _ => Some(shared::review::token::Key::local(&ctx.cfg.review).map_err(|e| e.to_string())?),
    };
    if sources.is_empty() && reviews.is_none() {
        return Err("no [[intake.sources]] and no [review] key in the configuration: nothing to serve".into());
    }
    let listener =
        tokio::net::TcpListener::bind(listen).await.map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let _ = writeln!(out, "listening on http://{addr}");
    let _ = out.flush();

    let ctx = Arc::new(ctx);
    let (tx, mut rx) = mpsc::channel::<Value>(queue.max(1));
    let (reports_tx, mut reports) = mpsc::unbounded_channel::<EventReport>();
    let worker_ctx = Arc::clone(&ctx);
    let worker = tokio::spawn(async move {
        while let Some(envelope) = rx.recv().await {
            let report = shared::pipeline::process(&worker_ctx, &envelope).await;
            let _ = reports_tx.send(report);
        }
    });
    let intake = Arc::new(Doors {
        intake: LocalIntake {
            sources: sources.into(),
            dedupe: MemoryDedupe::default(),
            hand_on: Queue(tx),
            audit: CtxAudit(Arc::clone(&ctx)),
            refused: Default::default(),
        },
        reviews,
        ctx: Arc::clone(&ctx),
    });

    let mut connections = tokio::task::JoinSet::new();
    let mut failed = 0;
    let mut shutdown = std::pin::pin!(shutdown_signal());
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let intake = Arc::clone(&intake);
                connections.spawn(async move {
                    let service = service_fn(move |req| answer(Arc::clone(&intake), req));
                    if let Err(e) = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await {
                        tracing::debug!(error = %e, "connection ended");
                    }
                });
            }
            Some(report) = reports.recv() => failed += print(out, format, &report),
            _ = connections.join_next(), if !connections.is_empty() => {}
            () = &mut shutdown => break,
        }
    }
    // Stop accepting; answer what was read; then the queue closes and the pipeline drains it.
    drop(listener);
    tracing::info!("shutting down: finishing the requests in flight and the accepted events");
    let pending = connections.len();
    let deadline = tokio::time::sleep(std::time::Duration::from_secs(30));
    let mut deadline = std::pin::pin!(deadline);
    while !connections.is_empty() {
        tokio::select! {
            _ = connections.join_next() => {}
            Some(report) = reports.recv() => failed += print(out, format, &report),
            () = &mut deadline => {
                tracing::warn!(pending, "idle connections closed at shutdown");
                connections.abort_all();
                break;
            }
        }
    }
    intake.intake.flush_refused(chrono::Utc::now()).await;
    drop(intake);
    let _ = worker.await;
    while let Some(report) = reports.recv().await {
        failed += print(out, format, &report);
    }
    Ok(failed)
}

fn print(out: &mut dyn Write, format: Output, report: &EventReport) -> usize {
    crate::render::report(out, format, report);
    let _ = out.flush();
    usize::from(report.outcome == shared::pipeline::EventOutcome::Failed)
}

/// Reads the request (at most one byte over the limit, so an oversize body is answered 413
/// without reading it all) and answers it through the intake.
async fn answer(
    doors: Arc<Doors>,
    req: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, std::convert::Infallible> {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().map(str::to_owned);
    let headers: Vec<(String, String)> =
        req.headers().iter().filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned()))).collect();
    let mut body = req.into_body();
    let mut bytes = Vec::new();
    while bytes.len() <= webhook::MAX_BODY {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    bytes.extend_from_slice(&data);
                }
            }
            Some(Err(_)) => return Ok(respond(&Answer::refused(None, malformed()))),
            None => break,
        }
    }
    if let (Some(key), true) = (&doors.reviews, shared::drivers::review::api::serves(&path)) {
        let request = shared::drivers::review::api::Request {
            method: &method,
            path: &path,
            query: query.as_deref(),
            headers: &headers,
            body: &bytes,
        };
        let answer = shared::drivers::review::api::handle(&doors.ctx, key, &request, chrono::Utc::now()).await;
        return Ok(respond_review(answer));
    }
    let request = Request { method: &method, path: &path, headers: &headers, body: &bytes };
    let answer = doors.intake.handle(&request, chrono::Utc::now()).await;
    Ok(respond(&answer))
}

/// A review answer with the headers every review page carries.
fn respond_review(answer: shared::drivers::review::api::Response) -> hyper::Response<Full<Bytes>> {
    let mut response = hyper::Response::new(Full::new(Bytes::from(answer.body)));
    *response.status_mut() = hyper::StatusCode::from_u16(answer.status).unwrap_or(hyper::StatusCode::BAD_REQUEST);
    let headers = response.headers_mut();
    headers.insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static(answer.content_type));
    for (name, value) in shared::review::page::HEADERS {
        headers.insert(name, hyper::header::HeaderValue::from_static(value));
    }
    response
}

fn malformed() -> webhook::Refusal {
    webhook::Refusal::new(400, "rejected", None, "the request body could not be read")
}

fn respond(answer: &Answer) -> hyper::Response<Full<Bytes>> {
    let mut response = hyper::Response::new(Full::new(Bytes::from(answer.body())));
    *response.status_mut() = hyper::StatusCode::from_u16(answer.status).unwrap_or(hyper::StatusCode::BAD_REQUEST);
    response
        .headers_mut()
        .insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("application/json"));
    response
}

/// Ctrl-C, or SIGTERM (what a container runtime sends).
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = ctrl_c => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
    }
}

/// A body and the headers that sign it.
pub struct Signed {
    pub source: String,
    pub file: String,
    pub body: Vec<u8>,
    pub headers: Vec<(&'static str, String)>,
}

impl Signed {
    /// The headers, one per line; or a `curl` command posting to `curl`'s base URL; in JSON,
    /// `{"headers": {...}}` or `{"curl": "..."}`.
    pub fn render(&self, curl: Option<&str>, format: Output) -> String {
        if format == Output::Json {
            return match curl {
                Some(_) => serde_json::json!({ "curl": self.render(curl, Output::Text) }).to_string(),
                None => {
                    let headers: serde_json::Map<_, _> =
                        self.headers.iter().map(|(k, v)| ((*k).to_owned(), v.clone().into())).collect();
                    serde_json::json!({ "headers": headers }).to_string()
                }
            };
        }
        match curl {
            Some(url) => {
                // A Function URL (the stack's `IntakeUrl`) ends with `/`.
                let url = url.trim_end_matches('/');
                let mut c =
                    format!("curl -sS -X POST '{url}/hooks/{}' -H 'content-type: application/json'", self.source);
                for (k, v) in &self.headers {
                    c.push_str(&format!(" -H '{k}: {v}'"));
                }
                c.push_str(&format!(" --data-binary @'{}'", self.file));
                c
            }
            None => self.headers.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join("\n"),
        }
    }
}

/// `onboarding sign`: signs a body with the source's (first) secret. Never prints the secret.
pub fn sign(
    cfg: &shared::config::Config,
    source: &str,
    file: &str,
    id: Option<&str>,
    ts: i64,
) -> Result<Signed, String> {
    let src = cfg
        .intake
        .sources
        .iter()
        .find(|s| s.name == source)
        .ok_or_else(|| format!("no source `{source}` in [[intake.sources]]"))?;
    let secrets = webhook::local_secrets(src).map_err(|e| e.to_string())?;
    let body = std::fs::read(file).map_err(|e| format!("cannot read {file}: {e}"))?;
    let id = match id {
        Some(i) => i.to_owned(),
        None => {
            let mut b = [0u8; 12];
            getrandom::fill(&mut b).map_err(|e| e.to_string())?;
            format!("msg_{}", b.iter().map(|x| format!("{x:02x}")).collect::<String>())
        }
    };
    let signature = secrets[0].sign(&id, ts, &body);
    let headers = vec![
        (webhook::HEADER_ID, id),
        (webhook::HEADER_TIMESTAMP, ts.to_string()),
        (webhook::HEADER_SIGNATURE, signature),
    ];
    Ok(Signed { source: source.to_owned(), file: file.to_owned(), body, headers })
}

/// Posts a signed body to `base` (`http://host:port`) and returns the status and the answer.
pub async fn post(base: &str, signed: &Signed) -> Result<(u16, String), String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = base
        .strip_prefix("http://")
        .ok_or_else(|| format!("`{base}`: only plain http:// (a local `onboarding serve`); for HTTPS use --curl"))?
        .trim_end_matches('/');
    let mut stream =
        tokio::net::TcpStream::connect(host).await.map_err(|e| format!("cannot connect to {host}: {e}"))?;
    let mut head = format!(
        "POST /hooks/{} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        signed.source,
        signed.body.len()
    );
    for (k, v) in &signed.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.map_err(|e| e.to_string())?;
    stream.write_all(&signed.body).await.map_err(|e| e.to_string())?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&answer);
    let status =
        text.split(' ').nth(1).and_then(|c| c.parse().ok()).ok_or_else(|| format!("no HTTP answer: {text}"))?;
    Ok((status, text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed() -> Signed {
        Signed {
            source: "workday".into(),
            file: "events/webhooks/hire-engineering.json".into(),
            body: b"{}".to_vec(),
            headers: vec![("webhook-id", "msg_1".into()), ("webhook-signature", "v1,abc=".into())],
        }
    }

    #[test]
    fn a_curl_command_posts_to_the_hook_under_a_base_url_with_or_without_its_slash() {
        for base in ["https://abc.lambda-url.eu-west-1.on.aws/", "https://abc.lambda-url.eu-west-1.on.aws"] {
            let c = signed().render(Some(base), Output::Text);
            assert!(c.starts_with("curl -sS -X POST 'https://abc.lambda-url.eu-west-1.on.aws/hooks/workday'"), "{c}");
            assert!(
                c.contains(" -H 'webhook-signature: v1,abc='")
                    && c.ends_with("@'events/webhooks/hire-engineering.json'")
            );
        }
    }

    #[test]
    fn the_headers_print_as_lines_or_as_one_json_object() {
        assert_eq!(signed().render(None, Output::Text), "webhook-id: msg_1\nwebhook-signature: v1,abc=");
        let json: serde_json::Value = serde_json::from_str(&signed().render(None, Output::Json)).expect("json");
        assert_eq!(json, serde_json::json!({"headers": {"webhook-id": "msg_1", "webhook-signature": "v1,abc="}}));
    }
}
