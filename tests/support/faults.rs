//! A fault-injecting HTTP proxy on 127.0.0.1, put between `digestpin` and a
//! real test registry. Each request goes to a handler that picks an
//! [`Action`]: forward it (possibly edited, cut, trickled), answer it itself,
//! reset the connection, or stall. One request per connection
//! (`Connection: close`), so every fault hits a fresh exchange.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A request as the proxy read it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query.
    pub path: String,
    pub headers: Vec<(String, String)>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// An answer, from the registry or made up.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn new(status: u16, headers: &[(&str, &str)], body: impl Into<Vec<u8>>) -> Answer {
        Answer {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.into(),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Sets (or with `None` removes) a header.
    pub fn set_header(&mut self, name: &str, value: Option<&str>) {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        if let Some(value) = value {
            self.headers.push((name.to_string(), value.to_string()));
        }
    }
}

/// What the proxy does with one request.
pub enum Action {
    /// Pass it to the registry and its answer back.
    Forward,
    /// Pass it on and change the answer before sending it back.
    Edit(Box<dyn FnOnce(&mut Answer) + Send>),
    /// Answer it without asking the registry.
    Respond(Answer),
    /// Close the connection without answering.
    Reset,
    /// Hold the connection open, answer nothing, then close it.
    Stall(Duration),
    /// Forward, but send only the first `keep` bytes of the body, announcing
    /// `length` bytes (`None`: the whole body's length), then close.
    Truncate { keep: usize, length: Option<usize> },
    /// Forward, writing the answer one byte per interval.
    Trickle(Duration),
    /// Write these bytes as the whole answer, then close.
    Raw(Vec<u8>),
}

type Handler = dyn Fn(&Request, usize) -> Action + Send + Sync;

/// The running proxy; it stops accepting when dropped.
pub struct Proxy {
    pub port: u16,
    log: Arc<Mutex<Vec<Request>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl Proxy {
    /// Starts a proxy to the registry at `127.0.0.1:upstream`. The handler
    /// gets each request and its number (0 for the first).
    pub fn start(
        upstream: u16,
        handler: impl Fn(&Request, usize) -> Action + Send + Sync + 'static,
    ) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        {
            let log = Arc::clone(&log);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(std::sync::atomic::Ordering::Relaxed) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let log = Arc::clone(&log);
                    let handler = Arc::clone(&handler);
                    std::thread::spawn(move || {
                        let _ = serve(stream, upstream, &log, &*handler);
                    });
                }
            });
        }
        Proxy { port, log, stop }
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every request seen so far.
    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().unwrap().clone()
    }

    /// `METHOD path` of every request seen so far.
    pub fn lines(&self) -> Vec<String> {
        self.requests()
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn read_request(stream: &TcpStream) -> std::io::Result<Request> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let length: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(Request {
        method,
        path,
        headers,
    })
}

/// Sends the request to the registry and reads its whole answer.
fn forward(request: &Request, upstream: u16) -> std::io::Result<Answer> {
    let mut stream = TcpStream::connect(("127.0.0.1", upstream))?;
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    let mut head = format!("{} {} HTTP/1.1\r\n", request.method, request.path);
    for (k, v) in &request.headers {
        if !k.eq_ignore_ascii_case("connection") && !k.eq_ignore_ascii_case("host") {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    head.push_str(&format!(
        "Host: 127.0.0.1:{upstream}\r\nConnection: close\r\n\r\n"
    ));
    stream.write_all(head.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no header end"))?;
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut body = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(502);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        let mut decoded = Vec::new();
        let mut rest = &body[..];
        while let Some(end) = rest.windows(2).position(|w| w == b"\r\n") {
            let size = usize::from_str_radix(
                String::from_utf8_lossy(&rest[..end])
                    .split(';')
                    .next()
                    .unwrap_or("0")
                    .trim(),
                16,
            )
            .unwrap_or(0);
            if size == 0 {
                break;
            }
            decoded.extend_from_slice(&rest[end + 2..end + 2 + size]);
            rest = &rest[end + 2 + size + 2..];
        }
        body = decoded;
    }
    let headers = headers
        .into_iter()
        .filter(|(k, _)| {
            !k.eq_ignore_ascii_case("transfer-encoding") && !k.eq_ignore_ascii_case("connection")
        })
        .collect();
    Ok(Answer {
        status,
        headers,
        body,
    })
}

/// The bytes of an answer's head; `length` is the announced body length
/// (a HEAD answer keeps the registry's).
fn head_bytes(answer: &Answer, length: Option<usize>) -> Vec<u8> {
    let mut head = format!("HTTP/1.1 {} Fault\r\n", answer.status);
    for (k, v) in &answer.headers {
        if length.is_some() && k.eq_ignore_ascii_case("content-length") {
            continue;
        }
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(length) = length {
        head.push_str(&format!("Content-Length: {length}\r\n"));
    }
    head.push_str("Connection: close\r\n\r\n");
    head.into_bytes()
}

fn serve(
    mut stream: TcpStream,
    upstream: u16,
    log: &Mutex<Vec<Request>>,
    handler: &Handler,
) -> std::io::Result<()> {
    let request = read_request(&stream)?;
    let n = {
        let mut log = log.lock().unwrap();
        log.push(request.clone());
        log.len() - 1
    };
    let head = request.method == "HEAD";
    let length = |answer: &Answer| (!head).then_some(answer.body.len());
    match handler(&request, n) {
        Action::Reset => return Ok(()),
        Action::Stall(duration) => {
            std::thread::sleep(duration);
            return Ok(());
        }
        Action::Raw(bytes) => stream.write_all(&bytes)?,
        Action::Respond(answer) => {
            stream.write_all(&head_bytes(&answer, length(&answer)))?;
            if !head {
                stream.write_all(&answer.body)?;
            }
        }
        Action::Forward => {
            let answer = forward(&request, upstream)?;
            stream.write_all(&head_bytes(&answer, length(&answer)))?;
            stream.write_all(&answer.body)?;
        }
        Action::Edit(edit) => {
            let mut answer = forward(&request, upstream)?;
            edit(&mut answer);
            stream.write_all(&head_bytes(&answer, length(&answer)))?;
            if !head {
                stream.write_all(&answer.body)?;
            }
        }
        Action::Truncate { keep, length } => {
            let answer = forward(&request, upstream)?;
            let announced = length.unwrap_or(answer.body.len());
            stream.write_all(&head_bytes(&answer, Some(announced)))?;
            stream.write_all(&answer.body[..keep.min(answer.body.len())])?;
        }
        Action::Trickle(interval) => {
            let answer = forward(&request, upstream)?;
            let mut bytes = head_bytes(&answer, length(&answer));
            bytes.extend_from_slice(&answer.body);
            for byte in bytes {
                stream.write_all(&[byte])?;
                stream.flush()?;
                std::thread::sleep(interval);
            }
        }
    }
    stream.flush()?;
    let _ = stream.shutdown(std::net::Shutdown::Write);
    // Let the client read everything before the socket is dropped.
    let mut sink = [0u8; 64];
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    let _ = stream.read(&mut sink);
    Ok(())
}

/// A plain TCP forwarder on 127.0.0.1 in front of `target` (`host:port`):
/// `on_accept` runs for each connection before anything is forwarded;
/// bytes then flow both ways untouched. Returns the port it listens on.
pub fn tcp_forwarder(target: String, mut on_accept: impl FnMut() + Send + 'static) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { return };
            on_accept();
            let Ok(server) = TcpStream::connect(&target) else {
                return;
            };
            for (mut from, mut to) in [
                (client.try_clone().unwrap(), server.try_clone().unwrap()),
                (server, client),
            ] {
                std::thread::spawn(move || {
                    let mut buf = [0u8; 16384];
                    while let Ok(n) = from.read(&mut buf) {
                        if n == 0 || to.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = to.shutdown(std::net::Shutdown::Write);
                });
            }
        }
    });
    port
}
