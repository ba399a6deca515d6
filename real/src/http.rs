//! A blocking HTTP/1.1 client with keep-alive, for the harness's clients (one thread each)
//! and the benchmark. It tells apart the two ways a request can fail, because the history
//! needs to know: [`ClientError::NotSent`] (the connection could not be made: the server
//! never saw the request) and [`ClientError::Indeterminate`] (it was sent, and no complete
//! answer came back: it may have taken effect).

use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// A response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    /// Names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

#[derive(Debug)]
pub enum ClientError {
    /// Connecting failed: the request was not sent.
    NotSent(io::Error),
    /// Sent, but no complete response: the request may or may not have taken effect.
    Indeterminate(String),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::NotSent(e) => write!(f, "not sent: {e}"),
            ClientError::Indeterminate(why) => write!(f, "no answer: {why}"),
        }
    }
}

/// One keep-alive connection to one server, reopened after any failure.
pub struct Connection {
    pub addr: SocketAddr,
    timeout: Duration,
    stream: Option<BufReader<TcpStream>>,
}

impl Connection {
    pub fn new(addr: SocketAddr, timeout: Duration) -> Connection {
        Connection {
            addr,
            timeout,
            stream: None,
        }
    }

    fn connect(&mut self) -> Result<&mut BufReader<TcpStream>, ClientError> {
        if self.stream.is_none() {
            let connect_timeout = self.timeout.min(Duration::from_millis(1000));
            let stream = TcpStream::connect_timeout(&self.addr, connect_timeout)
                .map_err(ClientError::NotSent)?;
            stream.set_nodelay(true).map_err(ClientError::NotSent)?;
            stream
                .set_read_timeout(Some(self.timeout))
                .map_err(ClientError::NotSent)?;
            stream
                .set_write_timeout(Some(self.timeout))
                .map_err(ClientError::NotSent)?;
            self.stream = Some(BufReader::new(stream));
        }
        Ok(self.stream.as_mut().expect("just set"))
    }

    /// Sends one request and reads its response.
    pub fn request(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> Result<Response, ClientError> {
        let mut head = format!(
            "{method} {target} HTTP/1.1\r\nhost: {}\r\ncontent-length: {}\r\n",
            self.addr,
            body.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(body);
        let stream = self.connect()?;
        let result = stream
            .get_mut()
            .write_all(&bytes)
            .map_err(|e| ClientError::Indeterminate(format!("write: {e}")))
            .and_then(|()| read_response(stream).map_err(ClientError::Indeterminate));
        match &result {
            Ok(r)
                if r.header("connection")
                    .is_some_and(|c| c.eq_ignore_ascii_case("close")) =>
            {
                self.stream = None
            }
            Ok(_) => {}
            Err(_) => self.stream = None,
        }
        result
    }
}

fn read_line(stream: &mut BufReader<TcpStream>) -> Result<String, String> {
    let mut line = String::new();
    match stream.read_line(&mut line) {
        Ok(0) => Err("connection closed".into()),
        Ok(_) => Ok(line.trim_end_matches(['\r', '\n']).to_string()),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            Err("timed out".into())
        }
        Err(e) => Err(e.to_string()),
    }
}

fn read_response(stream: &mut BufReader<TcpStream>) -> Result<Response, String> {
    let status_line = read_line(stream)?;
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let mut headers = Vec::new();
    loop {
        let line = read_line(stream)?;
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    let find = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v): &(String, String)| v.clone())
    };
    let body = if find("transfer-encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked")) {
        read_chunked(stream)?
    } else {
        let len: usize = match find("content-length") {
            Some(len) => len
                .parse()
                .map_err(|_| format!("bad content-length {len:?}"))?,
            None => 0,
        };
        let mut body = vec![0; len];
        stream
            .read_exact(&mut body)
            .map_err(|e| format!("body: {e}"))?;
        body
    };
    Ok(Response {
        status,
        headers,
        body,
    })
}

fn read_chunked(stream: &mut BufReader<TcpStream>) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let line = read_line(stream)?;
        let size = usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| format!("bad chunk size {line:?}"))?;
        if size == 0 {
            // Trailers, then the blank line.
            while !read_line(stream)?.is_empty() {}
            return Ok(body);
        }
        let start = body.len();
        body.resize(start + size, 0);
        stream
            .read_exact(&mut body[start..])
            .map_err(|e| format!("chunk: {e}"))?;
        read_line(stream)?;
    }
}

/// One request on a fresh connection (for the harness's own control calls).
pub fn once(
    addr: SocketAddr,
    method: &str,
    target: &str,
    body: &[u8],
    timeout: Duration,
) -> Result<Response, ClientError> {
    Connection::new(addr, timeout).request(method, target, &[], body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::thread;

    fn serve_once(reply: &'static [u8]) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf);
            stream.write_all(reply).unwrap();
        });
        addr
    }

    #[test]
    fn content_length_and_chunked_bodies_are_read() {
        let addr = serve_once(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
        let r = once(addr, "GET", "/", b"", Duration::from_secs(5)).unwrap();
        assert_eq!((r.status, r.text().as_str()), (200, "hello"));
        let addr = serve_once(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n",
        );
        let r = once(addr, "POST", "/", b"{}", Duration::from_secs(5)).unwrap();
        assert_eq!(r.text(), "abcde");
    }

    #[test]
    fn a_refused_connection_is_not_sent_and_a_cut_answer_is_indeterminate() {
        let addr = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        match once(addr, "GET", "/", b"", Duration::from_secs(1)) {
            Err(ClientError::NotSent(_)) => {}
            other => panic!("{other:?}"),
        }
        let addr = serve_once(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhal");
        match once(addr, "GET", "/", b"", Duration::from_secs(5)) {
            Err(ClientError::Indeterminate(why)) => assert!(why.contains("body"), "{why}"),
            other => panic!("{other:?}"),
        }
    }
}
