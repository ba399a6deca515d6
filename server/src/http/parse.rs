//! HTTP/1.1 requests: the head parsed by `httparse`, the body by `Content-Length`. Limits on
//! every size; every malformed input is an [`HttpError`] that names the problem, never a
//! panic.

use bytes::{Buf, BytesMut};
use std::fmt;
use std::io;
use tokio::io::{AsyncRead, AsyncReadExt};

/// Largest request head (request line and headers).
pub const MAX_HEAD: usize = 16 * 1024;
/// Largest request body.
pub const MAX_BODY: usize = 1 << 20;
const MAX_HEADERS: usize = 32;

/// A request, head and body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: String,
    /// The path, percent-encoded as sent.
    pub path: String,
    /// The query string after `?`, percent-encoded as sent; empty if none.
    pub query: String,
    /// Names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The client asked to close the connection after this request (or spoke HTTP/1.0).
    pub close: bool,
}

impl HttpRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The path and query as sent (for a redirect to the same resource elsewhere).
    pub fn target(&self) -> String {
        if self.query.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{}", self.path, self.query)
        }
    }
}

/// Why a request could not be read.
#[derive(Debug)]
pub enum HttpError {
    /// The head is not HTTP/1.x (`httparse`'s reason).
    Malformed(String),
    HeadTooLarge,
    BodyTooLarge {
        len: usize,
    },
    BadContentLength(String),
    /// `Transfer-Encoding` request bodies are not supported; send `Content-Length`.
    TransferEncoding,
    /// The connection closed in the middle of a request.
    Truncated,
    Io(io::Error),
}

impl HttpError {
    /// The status code of the answer, if one can still be sent.
    pub fn status(&self) -> Option<u16> {
        match self {
            HttpError::Malformed(_) | HttpError::BadContentLength(_) => Some(400),
            HttpError::HeadTooLarge => Some(431),
            HttpError::BodyTooLarge { .. } => Some(413),
            HttpError::TransferEncoding => Some(411),
            HttpError::Truncated | HttpError::Io(_) => None,
        }
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::Malformed(why) => write!(f, "malformed request head: {why}"),
            HttpError::HeadTooLarge => write!(f, "request head longer than {MAX_HEAD} bytes"),
            HttpError::BodyTooLarge { len } => {
                write!(f, "request body of {len} bytes; the limit is {MAX_BODY}")
            }
            HttpError::BadContentLength(v) => write!(f, "content-length {v:?} is not a number"),
            HttpError::TransferEncoding => {
                write!(
                    f,
                    "transfer-encoding bodies are not supported; send content-length"
                )
            }
            HttpError::Truncated => write!(f, "connection closed in the middle of a request"),
            HttpError::Io(e) => write!(f, "reading the request: {e}"),
        }
    }
}

impl std::error::Error for HttpError {}

/// A parsed head: the request without its body, and the body's length.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    pub request: HttpRequest,
    pub content_length: usize,
}

/// Parses a request head at the start of `buf`: `Ok(None)` if it is not complete yet,
/// otherwise the head and its length in bytes.
pub fn parse_head(buf: &[u8]) -> Result<Option<(Head, usize)>, HttpError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    let len = match parsed.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD => {
            return Err(HttpError::HeadTooLarge)
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(HttpError::Malformed(format!(
                "more than {MAX_HEADERS} headers"
            )))
        }
        Err(e) => return Err(HttpError::Malformed(e.to_string())),
    };
    if len > MAX_HEAD {
        return Err(HttpError::HeadTooLarge);
    }
    let method = parsed.method.unwrap_or_default().to_string();
    let target = parsed.path.unwrap_or_default();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut close = parsed.version == Some(0);
    let mut content_length = 0;
    let mut out = Vec::with_capacity(parsed.headers.len());
    for header in parsed.headers.iter() {
        let name = header.name.to_ascii_lowercase();
        let value = String::from_utf8_lossy(header.value).trim().to_string();
        match name.as_str() {
            "content-length" => {
                content_length = value
                    .parse()
                    .map_err(|_| HttpError::BadContentLength(value.clone()))?;
            }
            "transfer-encoding" => return Err(HttpError::TransferEncoding),
            "connection" => {
                let v = value.to_ascii_lowercase();
                if v == "close" {
                    close = true;
                } else if v == "keep-alive" {
                    close = false;
                }
            }
            _ => {}
        }
        out.push((name, value));
    }
    if content_length > MAX_BODY {
        return Err(HttpError::BodyTooLarge {
            len: content_length,
        });
    }
    let request = HttpRequest {
        method,
        path: path.to_string(),
        query: query.to_string(),
        headers: out,
        body: Vec::new(),
        close,
    };
    Ok(Some((
        Head {
            request,
            content_length,
        },
        len,
    )))
}

/// Reads one request from `reader`, keeping bytes after it in `buf` for the next one.
/// `Ok(None)`: the client closed the connection between requests.
pub async fn read_request<R: AsyncRead + Unpin>(
    reader: &mut R,
    buf: &mut BytesMut,
) -> Result<Option<HttpRequest>, HttpError> {
    let head = loop {
        if let Some((head, len)) = parse_head(buf)? {
            buf.advance(len);
            break head;
        }
        if reader.read_buf(buf).await.map_err(HttpError::Io)? == 0 {
            return if buf.is_empty() {
                Ok(None)
            } else {
                Err(HttpError::Truncated)
            };
        }
    };
    while buf.len() < head.content_length {
        if reader.read_buf(buf).await.map_err(HttpError::Io)? == 0 {
            return Err(HttpError::Truncated);
        }
    }
    let mut request = head.request;
    request.body = buf.split_to(head.content_length).to_vec();
    Ok(Some(request))
}

/// Decodes `%XX` escapes (and nothing else: `+` stays `+`). Fails on a bad escape or on
/// bytes that are not UTF-8.
pub fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("bad percent escape at byte {i} of {text:?}"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("{text:?} does not decode to UTF-8"))
}

/// The decoded `name=value` pairs of a query string.
pub fn query_pairs(query: &str) -> Result<Vec<(String, String)>, String> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((percent_decode(name)?, percent_decode(value)?))
        })
        .collect()
}

/// An HTTP/1.1 response.
pub fn response(status: u16, headers: &[(&str, String)], body: &[u8], close: bool) -> Vec<u8> {
    let reason = match status {
        200 => "OK",
        307 => "Temporary Redirect",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Payload Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    };
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        out.push_str(name);
        out.push_str(": ");
        out.push_str(value);
        out.push_str("\r\n");
    }
    if close {
        out.push_str("connection: close\r\n");
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_request_parses_with_its_query_headers_and_length() {
        let raw = b"PUT /kv/a%2Fb?x=1&y=%41 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nClient-Id: 7\r\n\r\nabcNEXT";
        let (head, len) = parse_head(raw).unwrap().unwrap();
        assert_eq!(&raw[len..], b"abcNEXT");
        assert_eq!(head.content_length, 3);
        let r = head.request;
        assert_eq!((r.method.as_str(), r.path.as_str()), ("PUT", "/kv/a%2Fb"));
        assert_eq!(r.header("client-id"), Some("7"));
        assert!(!r.close);
        assert_eq!(
            query_pairs(&r.query).unwrap(),
            vec![("x".into(), "1".into()), ("y".into(), "A".into())]
        );
        assert_eq!(percent_decode("a%2Fb").unwrap(), "a/b");
    }

    #[test]
    fn incomplete_heads_wait_and_bad_ones_are_named() {
        assert!(parse_head(b"GET /kv/x HTTP/1.1\r\nHost").unwrap().is_none());
        let err = parse_head(b"GET /kv/x HTTP/1.1\r\nContent-Length: ten\r\n\r\n").unwrap_err();
        assert_eq!(err.status(), Some(400));
        assert!(err.to_string().contains("ten"));
        let err = parse_head(b"G\0T / HTTP/1.1\r\n\r\n").unwrap_err();
        assert_eq!(err.status(), Some(400));
        let big = format!(
            "PUT /kv/x HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
            MAX_BODY + 1
        );
        assert_eq!(parse_head(big.as_bytes()).unwrap_err().status(), Some(413));
        let chunked = b"PUT /kv/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert_eq!(parse_head(chunked).unwrap_err().status(), Some(411));
        let long = format!("GET /{} HTTP/1.1\r\n", "a".repeat(MAX_HEAD + 1));
        assert_eq!(parse_head(long.as_bytes()).unwrap_err().status(), Some(431));
        assert!(percent_decode("%zz").unwrap_err().contains("byte 0"));
        assert!(percent_decode("%ff").is_err());
        assert!(percent_decode("abc%4").is_err());
    }

    #[test]
    fn http_1_0_and_connection_close_close() {
        let (head, _) = parse_head(b"GET / HTTP/1.0\r\n\r\n").unwrap().unwrap();
        assert!(head.request.close);
        let (head, _) = parse_head(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(head.request.close);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn pipelined_requests_read_one_at_a_time_and_a_cut_body_is_truncated() {
        let raw: &[u8] =
            b"PUT /kv/a HTTP/1.1\r\nContent-Length: 2\r\n\r\nv1GET /kv/a HTTP/1.1\r\n\r\n";
        let mut reader = raw;
        let mut buf = BytesMut::new();
        let first = read_request(&mut reader, &mut buf).await.unwrap().unwrap();
        assert_eq!(first.body, b"v1");
        let second = read_request(&mut reader, &mut buf).await.unwrap().unwrap();
        assert_eq!(
            (second.method.as_str(), second.path.as_str()),
            ("GET", "/kv/a")
        );
        assert!(read_request(&mut reader, &mut buf).await.unwrap().is_none());

        let mut cut: &[u8] = b"PUT /kv/a HTTP/1.1\r\nContent-Length: 5\r\n\r\nab";
        let err = read_request(&mut cut, &mut BytesMut::new())
            .await
            .unwrap_err();
        assert!(matches!(err, HttpError::Truncated), "{err}");
    }

    proptest! {
        /// No input makes the head parser or the decoders panic.
        #[test]
        fn arbitrary_input_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_head(&bytes);
            let text = String::from_utf8_lossy(&bytes);
            let _ = percent_decode(&text);
            let _ = query_pairs(&text);
        }
    }
}
