//! A small host of the Lambda Runtime API (the HTTP interface a Lambda binary polls), so a test
//! can start a real function binary as Lambda would and hand it events.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// What the function answered for one invocation.
#[derive(Debug, Clone)]
pub enum Answer {
    Response(Value),
    Error(Value),
    InitError(Value),
}

struct Shared {
    queue: Mutex<VecDeque<(String, Value)>>,
    ready: Condvar,
    first_poll: Mutex<Option<Instant>>,
}

pub struct RuntimeApi {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    answers: Mutex<Receiver<(String, Answer)>>,
    next_id: Mutex<u64>,
}

impl RuntimeApi {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind runtime api");
        let addr = listener.local_addr().expect("addr");
        let shared = Arc::new(Shared {
            queue: Mutex::new(VecDeque::new()),
            ready: Condvar::new(),
            first_poll: Mutex::new(None),
        });
        let (tx, rx) = channel();
        let s = shared.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (s, tx) = (s.clone(), tx.clone());
                std::thread::spawn(move || serve(stream, &s, &tx));
            }
        });
        Self { addr, shared, answers: Mutex::new(rx), next_id: Mutex::new(0) }
    }

    /// When the function first asked for an event (its cold start ended).
    pub fn first_poll(&self) -> Option<Instant> {
        *self.shared.first_poll.lock().expect("lock")
    }

    /// Hands `payload` to the function and waits for its answer.
    pub fn invoke(&self, payload: Value, timeout: Duration) -> Option<Answer> {
        let id = {
            let mut n = self.next_id.lock().expect("lock");
            *n += 1;
            format!("req-{n}")
        };
        self.shared.queue.lock().expect("lock").push_back((id.clone(), payload));
        self.shared.ready.notify_all();
        let rx = self.answers.lock().expect("lock");
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            match rx.recv_timeout(left) {
                Ok((got, a)) if got == id || matches!(a, Answer::InitError(_)) => return Some(a),
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
    }
}

fn serve(stream: TcpStream, shared: &Shared, answers: &Sender<(String, Answer)>) {
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut writer = stream;
    loop {
        let Some((method, path, body)) = read_request(&mut reader) else {
            return;
        };
        let prefix = "/2018-06-01/runtime/";
        let route = path.strip_prefix(prefix).unwrap_or(&path);
        let reply = if method == "GET" && route == "invocation/next" {
            {
                let mut first = shared.first_poll.lock().expect("lock");
                first.get_or_insert_with(Instant::now);
            }
            let (id, payload) = {
                let mut q = shared.queue.lock().expect("lock");
                loop {
                    if let Some(item) = q.pop_front() {
                        break item;
                    }
                    q = shared.ready.wait(q).expect("wait");
                }
            };
            let deadline = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() + 60_000).unwrap_or(0);
            let body = payload.to_string();
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: {id}\r\n\
                 Lambda-Runtime-Deadline-Ms: {deadline}\r\nLambda-Runtime-Invoked-Function-Arn: \
                 arn:aws:lambda:us-east-1:123456789012:function:test\r\nLambda-Runtime-Trace-Id: \
                 Root=1-00000000-000000000000000000000000\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
        } else if method == "POST" {
            let value: Value = serde_json::from_slice(&body)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
            let parts: Vec<&str> = route.split('/').collect();
            let answer = match parts.as_slice() {
                ["invocation", id, "response"] => Some(((*id).to_owned(), Answer::Response(value))),
                ["invocation", id, "error"] => Some(((*id).to_owned(), Answer::Error(value))),
                ["init", "error"] => Some((String::new(), Answer::InitError(value))),
                _ => None,
            };
            match answer {
                Some(a) => {
                    let _ = answers.send(a);
                    "HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{}".to_owned()
                }
                None => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_owned(),
            }
        } else {
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_owned()
        };
        if writer.write_all(reply.as_bytes()).and_then(|()| writer.flush()).is_err() {
            return;
        }
    }
}

/// One HTTP/1.1 request: method, path, body (Content-Length or chunked).
fn read_request(r: &mut BufReader<TcpStream>) -> Option<(String, String, Vec<u8>)> {
    let mut line = String::new();
    if r.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let (mut length, mut chunked) = (0usize, false);
    loop {
        let mut h = String::new();
        r.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
            if k == "content-length" {
                length = v.parse().ok()?;
            } else if k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked") {
                chunked = true;
            }
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            r.read_line(&mut size).ok()?;
            let n = usize::from_str_radix(size.trim(), 16).ok()?;
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk).ok()?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    } else {
        body.resize(length, 0);
        r.read_exact(&mut body).ok()?;
    }
    Some((method, path, body))
}

impl RuntimeApi {
    /// A function binary set up as Lambda starts it: nothing inherited from this process (a
    /// developer's `SSL_CERT_FILE`, `AWS_PROFILE` or `HOME` would change what the binary does and
    /// how fast it starts), the variables Lambda defines for a custom runtime, the function's
    /// identity, its config in `ONBOARDING_CONFIG`, and `env` (the account's AWS settings).
    pub fn command(
        &self,
        program: &std::path::Path,
        name: &str,
        env: Vec<(String, String)>,
        config: &str,
    ) -> std::process::Command {
        let mut c = std::process::Command::new(program);
        c.env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin")
            .env("LANG", "en_US.UTF-8")
            .env("TZ", ":UTC")
            .envs(env)
            .env("AWS_LAMBDA_RUNTIME_API", self.addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "local")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env("ONBOARDING_CONFIG", config)
            .stdin(std::process::Stdio::null());
        c
    }
}

/// A function binary of this workspace started as Lambda starts it (JSON logs at debug level,
/// stdout and stderr in a log file under the scratch directory); killed when dropped.
pub struct Function {
    pub api: RuntimeApi,
    pub log: std::path::PathBuf,
    child: std::process::Child,
}

impl Function {
    /// Starts binary `name` with `env` (an account's) and `config` (the TOML it reads).
    pub fn start(name: &str, env: Vec<(String, String)>, config: &str) -> Self {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let api = RuntimeApi::start();
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let log = crate::scratch().join(format!("{name}-{}-{n}.log", std::process::id()));
        let out = std::fs::File::create(&log).expect("log file");
        let child = api
            .command(&crate::binary(name), name, env, config)
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .env("RUST_LOG", "debug")
            .stdout(std::process::Stdio::from(out.try_clone().expect("log")))
            .stderr(std::process::Stdio::from(out))
            .spawn()
            .unwrap_or_else(|e| panic!("start {name}: {e}"));
        Self { api, log, child }
    }

    /// What it logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}
