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

use crate::Output;

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

/// Serves until Ctrl-C or SIGTERM. Prints `listening on http://ADDR` first, then one report per
/// processed event, in `format`. Returns how many events failed.
pub async fn serve(ctx: Ctx, listen: &str, queue: usize, format: Output, out: &mut dyn Write) -> Result<usize, String> {
    let mut sources = BTreeMap::new();
    for src in &ctx.cfg.intake.sources {
        let secrets = webhook::local_secrets(src).map_err(|e| e.to_string())?;
        sources.insert(src.name.clone(), secrets);
    }
    if sources.is_empty() {
        return Err("no [[intake.sources]] in the configuration: nobody could post".into());
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
    let intake = Arc::new(LocalIntake {
        sources,
        dedupe: MemoryDedupe::default(),
        hand_on: Queue(tx),
        audit: CtxAudit(Arc::clone(&ctx)),
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
    intake: Arc<LocalIntake>,
    req: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, std::convert::Infallible> {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
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
    let request = Request { method: &method, path: &path, headers: &headers, body: &bytes };
    let answer = intake.handle(&request, chrono::Utc::now()).await;
    Ok(respond(&answer))
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

/// `onboarding sign`: the headers for a body, signed with the source's (first) secret, or a
/// ready `curl` command. Never prints the secret.
pub fn sign(
    cfg: &shared::config::Config,
    source: &str,
    file: &str,
    id: Option<&str>,
    curl: Option<&str>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<String, String> {
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
    let ts = now.timestamp();
    let signature = secrets[0].sign(&id, ts, &body);
    Ok(match curl {
        Some(url) => format!(
            "curl -sS -X POST '{url}/hooks/{source}' -H 'content-type: application/json' -H '{}: {id}' -H '{}: {ts}' \
             -H '{}: {signature}' --data-binary @'{file}'",
            webhook::HEADER_ID,
            webhook::HEADER_TIMESTAMP,
            webhook::HEADER_SIGNATURE
        ),
        None => format!(
            "{}: {id}\n{}: {ts}\n{}: {signature}",
            webhook::HEADER_ID,
            webhook::HEADER_TIMESTAMP,
            webhook::HEADER_SIGNATURE
        ),
    })
}
