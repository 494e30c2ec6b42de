//! A small Lambda Runtime API server for tests: queues events for `GET .../invocation/next` and collects what the
//! function posts to `.../response` and `.../error`. std only; one thread per connection.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What the function answered for one invocation.
#[derive(Debug)]
pub struct Answer {
    pub request_id: String,
    /// `response` or `error`.
    pub kind: String,
    pub body: serde_json::Value,
}

struct Queue {
    events: Mutex<VecDeque<(String, String, u64)>>,
    ready: Condvar,
}

pub struct RuntimeApi {
    pub address: SocketAddr,
    queue: Arc<Queue>,
    answers: Receiver<Answer>,
    /// Set when the first `/next` arrives: the function is initialised.
    polled: Receiver<()>,
}

impl RuntimeApi {
    /// Listens on a free local port.
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding a free port");
        let address = listener.local_addr().unwrap();
        let queue = Arc::new(Queue { events: Mutex::new(VecDeque::new()), ready: Condvar::new() });
        let (answer_tx, answers) = channel();
        let (polled_tx, polled) = channel();
        let shared = queue.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (queue, answer_tx, polled_tx) = (shared.clone(), answer_tx.clone(), polled_tx.clone());
                std::thread::spawn(move || serve(stream, &queue, &answer_tx, &polled_tx));
            }
        });
        RuntimeApi { address, queue, answers, polled }
    }

    /// Queues one invocation whose deadline is `deadline` from now.
    pub fn invoke(&self, request_id: &str, payload: &serde_json::Value, deadline: Duration) {
        let deadline_ms = (SystemTime::now().duration_since(UNIX_EPOCH).unwrap() + deadline).as_millis() as u64;
        self.queue.events.lock().unwrap().push_back((request_id.into(), payload.to_string(), deadline_ms));
        self.queue.ready.notify_all();
    }

    pub fn wait_polled(&self, timeout: Duration) -> bool {
        self.polled.recv_timeout(timeout).is_ok()
    }

    pub fn answer(&self, timeout: Duration) -> Option<Answer> {
        self.answers.recv_timeout(timeout).ok()
    }
}

fn serve(stream: TcpStream, queue: &Queue, answers: &Sender<Answer>, polled: &Sender<()>) {
    let mut writer = stream.try_clone().expect("cloning the stream");
    let mut reader = BufReader::new(stream);
    // HTTP/1.1 keep-alive: serve requests until the client closes the connection.
    while let Some((method, path, body)) = read_request(&mut reader) {
        let reply = if method == "GET" && path.ends_with("/runtime/invocation/next") {
            let _ = polled.send(());
            let mut events = queue.events.lock().unwrap();
            let (id, payload, deadline_ms) = loop {
                match events.pop_front() {
                    Some(event) => break event,
                    None => events = queue.ready.wait(events).unwrap(),
                }
            };
            drop(events);
            let headers = format!(
                "Lambda-Runtime-Aws-Request-Id: {id}\r\nLambda-Runtime-Deadline-Ms: {deadline_ms}\r\n\
                 Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:ci-drain-handler\r\n\
                 Lambda-Runtime-Trace-Id: Root=1-00000000-000000000000000000000000;Sampled=0\r\n"
            );
            response(200, &headers, &payload)
        } else if method == "POST" && path.contains("/runtime/invocation/") {
            let parts: Vec<&str> = path.trim_end_matches('/').rsplit('/').collect();
            let (kind, request_id) = (parts[0].to_string(), parts[1].to_string());
            let body = serde_json::from_slice(&body)
                .unwrap_or(serde_json::Value::String(String::from_utf8_lossy(&body).into()));
            let _ = answers.send(Answer { request_id, kind, body });
            response(202, "", r#"{"status":"OK"}"#)
        } else if method == "POST" && path.ends_with("/runtime/init/error") {
            let body = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
            let _ = answers.send(Answer { request_id: "init".into(), kind: "init_error".into(), body });
            response(202, "", r#"{"status":"OK"}"#)
        } else {
            response(404, "", r#"{"errorMessage":"unknown path"}"#)
        };
        if writer.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

fn response(status: u16, headers: &str, body: &str) -> String {
    let reason = match status {
        200 => "OK",
        202 => "Accepted",
        _ => "Not Found",
    };
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n{headers}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Reads one request (Content-Length or chunked body); `None` when the connection closed.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<(String, String, Vec<u8>)> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut words = line.split_whitespace();
    let (method, path) = (words.next()?.to_string(), words.next()?.to_string());
    let (mut length, mut chunked) = (0usize, false);
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().ok()?,
            "transfer-encoding" => chunked = value.to_ascii_lowercase().contains("chunked"),
            _ => {}
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).ok()?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else {
        body.resize(length, 0);
        reader.read_exact(&mut body).ok()?;
    }
    Some((method, path, body))
}
