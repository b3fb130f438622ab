//! An HTTP proxy in front of the emulator that names and counts the AWS calls passing through
//! it, and can kill the calling process (SIGKILL) right after the emulator carried out its Nth
//! call and before the answer reaches the caller: the worst moment to die, when AWS did
//! something the caller never learned of.
//!
//! It understands just enough HTTP/1.1 for the SDK's requests (a head and a `Content-Length`
//! body), and serves one request per connection: the emulator is asked to close after its
//! answer, so an answer ends where its connection does, and the caller sees the same.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct Shared {
    /// The calls so far, in order (`iam:CreateUser`, `secretsmanager:CreateSecret`, ...).
    calls: Vec<String>,
    /// Kill the victim once this call (1-based) was carried out.
    kill_after: Option<usize>,
    victim: Option<u32>,
    killed: bool,
    /// Added before each call is forwarded (a realistic round trip to AWS).
    latency: std::time::Duration,
    /// Answer this share of calls (0.0 to 1.0) with the service's throttling error instead of
    /// forwarding them; drawn from a fixed-seed generator, so a run is repeatable.
    throttle: f64,
    seed: u64,
    throttled: usize,
    /// At most this many calls per second to these services (by their signing name); beyond,
    /// the service's throttling error, as AWS answers at an account's limit.
    limit: Option<(Vec<String>, usize)>,
    /// When the limited services' recent calls were let through.
    admitted: std::collections::VecDeque<std::time::Instant>,
}

pub struct CallProxy {
    pub endpoint: String,
    shared: Arc<Mutex<Shared>>,
}

impl CallProxy {
    /// A proxy to `upstream` (`http://host:port`), listening on a free local port until the
    /// test process ends.
    pub fn start(upstream: &str) -> Self {
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let endpoint = format!("http://{}", listener.local_addr().expect("proxy address"));
        let shared = Arc::new(Mutex::new(Shared::default()));
        let state = Arc::clone(&shared);
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let (state, upstream) = (Arc::clone(&state), upstream.clone());
                std::thread::spawn(move || serve(conn, &upstream, &state));
            }
        });
        Self { endpoint, shared }
    }

    /// Arms the proxy: the victim dies right after the emulator carried out call number `n`
    /// (1-based, counted from now). Name the victim with [`Self::victim`] once it runs.
    pub fn kill_after(&self, n: usize) {
        let mut s = self.shared.lock().expect("proxy state");
        (s.kill_after, s.victim, s.killed) = (Some(n), None, false);
        s.calls.clear();
    }

    /// The process to kill.
    pub fn victim(&self, pid: u32) {
        self.shared.lock().expect("proxy state").victim = Some(pid);
    }

    /// The calls seen so far, and forgets them; disarms the proxy.
    pub fn take_calls(&self) -> Vec<String> {
        let mut s = self.shared.lock().expect("proxy state");
        (s.kill_after, s.victim) = (None, None);
        std::mem::take(&mut s.calls)
    }

    pub fn killed(&self) -> bool {
        self.shared.lock().map(|s| s.killed).unwrap_or(false)
    }

    /// From now on: `latency` before each call, and `share` of the calls throttled (answered
    /// with the service's own throttling error, as AWS answers: `Throttling` for the query
    /// protocols, `ThrottlingException` for the JSON ones).
    pub fn degrade(&self, latency: std::time::Duration, share: f64) {
        let mut s = self.shared.lock().expect("proxy state");
        (s.latency, s.throttle, s.seed) = (latency, share, 0x9e37_79b9_7f4a_7c15);
    }

    /// From now on: at most `per_second` calls a second (any one-second window) to `services`
    /// (signing names: `identitystore`, `sso`); the others answered with a throttling error.
    pub fn limit(&self, services: &[&str], per_second: usize) {
        let mut s = self.shared.lock().expect("proxy state");
        s.limit = Some((services.iter().map(|v| (*v).to_owned()).collect(), per_second));
        s.admitted.clear();
    }

    /// How many calls were answered with a throttling error so far.
    pub fn throttled(&self) -> usize {
        self.shared.lock().map(|s| s.throttled).unwrap_or(0)
    }
}

/// The service's throttling answer for a request, or `None` for a protocol not modelled.
fn throttling(head: &[String], body: &[u8]) -> Option<Vec<u8>> {
    let (content_type, text) = if header(head, "x-amz-target").is_some() {
        ("application/x-amz-json-1.1", r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.to_owned())
    } else if crate::form_value(&String::from_utf8_lossy(body), "Action").is_some() {
        let xml = "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message>\
                   </Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>";
        ("text/xml", xml.to_owned())
    } else {
        return None;
    };
    Some(
        format!(
            "HTTP/1.1 400 Bad Request\r\nContent-Type: {content_type}\r\nx-amzn-RequestId: 00000000-0000-0000-0000-000000000000\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{text}",
            text.len()
        )
        .into_bytes(),
    )
}

/// One client connection, one request, forwarded on a fresh upstream connection.
fn serve(client: TcpStream, upstream: &str, state: &Mutex<Shared>) {
    let mut reader = BufReader::new(client.try_clone().expect("clone the client stream"));
    let mut client = client;
    let Some((head, body)) = read_request(&mut reader) else { return };
    let (number, latency, throttle) = {
        let mut s = state.lock().expect("proxy state");
        let call = action(&head, &body);
        s.calls.push(call.clone());
        // xorshift64: a fixed sequence of draws, one per call.
        s.seed ^= s.seed << 13;
        s.seed ^= s.seed >> 7;
        s.seed ^= s.seed << 17;
        let draw = (s.seed >> 11) as f64 / (1u64 << 53) as f64;
        let mut throttle = if draw < s.throttle { throttling(&head, &body) } else { None };
        let now = std::time::Instant::now();
        let service = call.split(':').next().unwrap_or_default().to_owned();
        if let Some((services, per_second)) = s.limit.clone()
            && throttle.is_none()
            && services.contains(&service)
        {
            while s.admitted.front().is_some_and(|t| now.duration_since(*t) >= std::time::Duration::from_secs(1)) {
                s.admitted.pop_front();
            }
            if s.admitted.len() >= per_second {
                throttle = throttling(&head, &body);
            } else {
                s.admitted.push_back(now);
            }
        }
        s.throttled += usize::from(throttle.is_some());
        (s.calls.len(), s.latency, throttle)
    };
    if !latency.is_zero() {
        std::thread::sleep(latency);
    }
    if let Some(answer) = throttle {
        let _ = client.write_all(&answer);
        return;
    }
    let Some(answer) = forward(upstream, &head, &body) else { return };
    if state.lock().expect("proxy state").kill_after == Some(number) {
        let pid = victim(state);
        let status = std::process::Command::new("kill").args(["-KILL", &pid.to_string()]).status();
        assert!(status.is_ok_and(|s| s.success()), "kill -KILL {pid}");
        return;
    }
    // The answer says `Connection: close`: the caller reads it to the end of this connection.
    let _ = client.write_all(&answer);
}

/// The process to kill, marked killed. It is named just after it starts, so its first call may
/// come first: wait for the name.
fn victim(state: &Mutex<Shared>) -> u32 {
    for _ in 0..500 {
        let mut s = state.lock().expect("proxy state");
        if let Some(pid) = s.victim {
            s.killed = true;
            return pid;
        }
        drop(s);
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("the proxy was armed, but no victim was named");
}

/// A request's head (lines, without the blank line) and body; `None` at the end of the stream.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<(Vec<String>, Vec<u8>)> {
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end_matches(['\r', '\n']).to_owned();
        if line.is_empty() {
            break;
        }
        head.push(line);
    }
    let length = header(&head, "content-length").and_then(|v| v.parse::<usize>().ok()).unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((head, body))
}

fn header<'a>(head: &'a [String], name: &str) -> Option<&'a str> {
    head.iter().skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then_some(v.trim())
    })
}

/// `service:Action`: from `X-Amz-Target` (JSON protocols) or the form's `Action` (query
/// protocols), the service taken from the credential scope of the signature.
fn action(head: &[String], body: &[u8]) -> String {
    let service = header(head, "authorization")
        .and_then(|a| a.split("Credential=").nth(1))
        .and_then(|c| c.split('/').nth(3))
        .unwrap_or("?")
        .to_owned();
    let name = header(head, "x-amz-target")
        .and_then(|t| t.rsplit('.').next().map(str::to_owned))
        .or_else(|| crate::form_value(&String::from_utf8_lossy(body), "Action"))
        .unwrap_or_else(|| head.first().cloned().unwrap_or_default());
    format!("{service}:{name}")
}

/// Sends the request upstream (asking it to close after answering) and reads the whole answer.
fn forward(upstream: &str, head: &[String], body: &[u8]) -> Option<Vec<u8>> {
    let mut conn = TcpStream::connect(upstream).ok()?;
    let mut out = String::new();
    for line in head.iter().filter(|l| !l.to_ascii_lowercase().starts_with("connection:")) {
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("Connection: close\r\n\r\n");
    conn.write_all(out.as_bytes()).ok()?;
    conn.write_all(body).ok()?;
    let mut answer = Vec::new();
    conn.read_to_end(&mut answer).ok()?;
    Some(answer)
}
