//! In-process servers for the integration tests: each on its own thread and runtime, on
//! loopback ports picked by the kernel, stopped through a channel.

#![allow(dead_code)]

use raft_core::NodeId;
use raft_kv::config::{AddressBook, PeerAddrs, ServerConfig};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

pub fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

pub fn book(nodes: u64) -> AddressBook {
    let mut book = AddressBook::default();
    for id in 1..=nodes {
        book.insert(
            NodeId(id),
            PeerAddrs {
                raft: free_addr(),
                http: free_addr(),
            },
        );
    }
    book
}

pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("raft-kv-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub struct Server {
    pub id: NodeId,
    pub http: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: mpsc::Receiver<Result<(), String>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Server {
    pub fn start(id: u64, book: &AddressBook, voters: &[u64], dir: &Path) -> Server {
        let config = ServerConfig {
            id: NodeId(id),
            data_dir: dir.join(format!("n{id}")),
            book: book.clone(),
            voters: voters.iter().map(|&v| NodeId(v)).collect(),
            tick: Duration::from_millis(20),
            election_ticks: (10, 20),
            heartbeat_ticks: 3,
            snapshot_every: 0,
            request_timeout: Duration::from_secs(5),
        };
        let http = book.get(NodeId(id)).unwrap().http;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (done_tx, done) = mpsc::channel();
        let thread = thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let result = runtime.block_on(raft_kv::run(config, async {
                let _ = stopped.await;
            }));
            let _ = done_tx.send(result.map_err(|e| e.to_string()));
        });
        Server {
            id: NodeId(id),
            http,
            stop: Some(stop),
            done,
            thread: Some(thread),
        }
    }

    /// How the server ended, if it has (within `wait`).
    pub fn ended(&self, wait: Duration) -> Option<Result<(), String>> {
        self.done.recv_timeout(wait).ok()
    }

    pub fn stop(mut self) -> Result<(), String> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let result = self
            .done
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or(Ok(()));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        result
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A response: status, headers (lower-case names), body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Sends raw bytes, reads until the server closes: the response, or None if the connection
/// ended without one.
pub fn raw(addr: SocketAddr, bytes: &[u8]) -> Option<Response> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    stream.write_all(bytes).ok()?;
    // The server sees the end of the request stream, so a cut-off request ends too.
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    parse_response(&out)
}

pub fn parse_response(bytes: &[u8]) -> Option<Response> {
    let text = String::from_utf8_lossy(bytes);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let mut lines = head.lines();
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Some(Response {
        status,
        headers,
        body: body.to_string(),
    })
}

pub fn request(addr: SocketAddr, method: &str, target: &str, body: &str) -> Option<Response> {
    let bytes = format!(
        "{method} {target} HTTP/1.1\r\nhost: test\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    raw(addr, bytes.as_bytes())
}

/// Polls `/status` of `addr` until a node reports itself a ready leader.
pub fn wait_for_leader(servers: &[&Server]) -> NodeId {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        for server in servers {
            if let Some(r) = request(server.http, "GET", "/status", "") {
                if r.body.contains("\"ready_leader\":true") {
                    return server.id;
                }
            }
        }
        thread::sleep(Duration::from_millis(50));
    }
    panic!("no leader within 20 s");
}

/// Waits until `server` answers HTTP (it binds its ports while starting).
pub fn wait_up(server: &Server) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while request(server.http, "GET", "/status", "").is_none() {
        assert!(Instant::now() < deadline, "{} never answered", server.id);
        thread::sleep(Duration::from_millis(20));
    }
}

/// Three servers (ids 1..=3, all voters) in `dir` and, once one leads, its id and a
/// follower's. Each server is an `Option` so a test can take one down and start it again.
pub struct ThreeServers {
    pub book: AddressBook,
    pub servers: Vec<Option<Server>>,
    pub leader: NodeId,
    pub follower: u64,
}

impl ThreeServers {
    pub fn start(dir: &Path) -> ThreeServers {
        let book = book(3);
        let servers: Vec<Option<Server>> = (1..=3)
            .map(|id| Some(Server::start(id, &book, &[1, 2, 3], dir)))
            .collect();
        let refs: Vec<&Server> = servers.iter().flatten().collect();
        let leader = wait_for_leader(&refs);
        let follower = (1..=3u64).find(|&id| id != leader.0).unwrap();
        ThreeServers {
            book,
            servers,
            leader,
            follower,
        }
    }

    pub fn http(&self, id: NodeId) -> SocketAddr {
        self.book.get(id).unwrap().http
    }

    /// Stops every server still running.
    pub fn stop(self) {
        for server in self.servers.into_iter().flatten() {
            server.stop().unwrap();
        }
    }
}
