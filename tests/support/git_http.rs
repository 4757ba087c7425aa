//! A git smart-HTTP server on 127.0.0.1 in front of `git http-backend`, that
//! wants one `Authorization: Basic x-access-token:<token>` header on every
//! request, answers 401 without it and 400 to a request carrying two (as
//! GitHub does, actions/checkout#162). It records every request's
//! Authorization headers.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use base64::Engine as _;

/// Per request: the request line and its Authorization headers.
pub type Log = Mutex<Vec<(String, Vec<String>)>>;

pub struct Server {
    pub url: String,
    /// Per request: the request line and its Authorization headers.
    pub requests: Arc<Log>,
}

pub fn basic(token: &str) -> String {
    let credentials = format!("x-access-token:{token}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(credentials)
    )
}

pub fn start(root: &Path, token: &str) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let (root, expected, log) = (root.to_path_buf(), basic(token), requests.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (root, expected, log) = (root.clone(), expected.clone(), log.clone());
            std::thread::spawn(move || serve(stream, &root, &expected, &log));
        }
    });
    Server { url, requests }
}

fn serve(stream: TcpStream, root: &PathBuf, expected: &str, log: &Log) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut stream = stream;
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
        return;
    }
    let request_line = request_line.trim_end().to_string();
    let mut headers: Vec<(String, String)> = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').unwrap();
        headers.push((name.to_ascii_lowercase(), value.trim().to_string()));
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    if header("expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue")) {
        stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").unwrap();
    }
    let mut body = Vec::new();
    if let Some(length) = header("content-length") {
        body.resize(length.parse().unwrap(), 0);
        reader.read_exact(&mut body).unwrap();
    } else if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).unwrap();
            let size = usize::from_str_radix(size.trim(), 16).unwrap();
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).unwrap();
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    }
    let authorizations: Vec<String> = headers
        .iter()
        .filter(|(n, _)| n == "authorization")
        .map(|(_, v)| v.clone())
        .collect();
    log.lock()
        .unwrap()
        .push((request_line.clone(), authorizations.clone()));
    let respond = |stream: &mut TcpStream, status: &str, extra: &str, body: &[u8]| {
        let head = format!(
            "HTTP/1.1 {status}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(body).unwrap();
    };
    match authorizations.as_slice() {
        [] => {
            return respond(
                &mut stream,
                "401 Unauthorized",
                "WWW-Authenticate: Basic realm=\"test\"\r\n",
                b"",
            );
        }
        [one] if one.eq_ignore_ascii_case(expected) => {}
        [_] => return respond(&mut stream, "403 Forbidden", "", b"bad credentials\n"),
        _ => {
            return respond(
                &mut stream,
                "400 Bad Request",
                "",
                b"duplicate header: Authorization\n",
            );
        }
    }
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap();
    let target = parts.next().unwrap();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut command = Command::new("git");
    command
        .arg("http-backend")
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("PATH_INFO", path)
        .env("QUERY_STRING", query)
        .env("REQUEST_METHOD", method)
        .env("REMOTE_USER", "x-access-token")
        .env("REMOTE_ADDR", "127.0.0.1")
        .env("CONTENT_LENGTH", body.len().to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (name, variable) in [
        ("content-type", "CONTENT_TYPE"),
        ("content-encoding", "HTTP_CONTENT_ENCODING"),
        ("git-protocol", "GIT_PROTOCOL"),
    ] {
        if let Some(value) = header(name) {
            command.env(variable, value);
        }
    }
    let mut child = command.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&body);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let split = out
        .stdout
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4))
        .or_else(|| {
            out.stdout
                .windows(2)
                .position(|w| w == b"\n\n")
                .map(|i| (i, 2))
        })
        .unwrap();
    let cgi_head = String::from_utf8_lossy(&out.stdout[..split.0]).to_string();
    let mut status = "200 OK".to_string();
    let mut extra = String::new();
    for line in cgi_head.lines() {
        match line.split_once(':') {
            Some((name, value)) if name.eq_ignore_ascii_case("status") => {
                status = value.trim().to_string();
            }
            Some(_) => extra.push_str(&format!("{}\r\n", line.trim_end())),
            None => {}
        }
    }
    respond(
        &mut stream,
        &status,
        &extra,
        &out.stdout[split.0 + split.1..],
    );
}
