//! The client API over HTTP/1.1: a small server on tokio (one task per connection,
//! keep-alive, requests answered in order). The API itself is [`api`]; request parsing is
//! [`parse`].

pub mod api;
pub mod parse;

use crate::config::AddressBook;
use crate::host::{Outcome, Request};
use crate::transport::faults::FaultSwitch;
use api::{Reply, Route};
use bytes::BytesMut;
use raft_core::NodeId;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

/// What every connection needs.
pub struct HttpContext {
    pub me: NodeId,
    pub book: AddressBook,
    pub requests: mpsc::Sender<Request>,
    pub faults: Arc<FaultSwitch>,
}

/// Accepts client connections until the runtime stops.
pub async fn serve(listener: TcpListener, context: Arc<HttpContext>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let context = context.clone();
                tokio::spawn(async move { connection(stream, &context).await });
            }
            Err(e) => {
                tracing::warn!(error = %e, "accept on the HTTP port failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}

async fn connection(stream: TcpStream, context: &HttpContext) {
    let _ = stream.set_nodelay(true);
    let (mut reader, mut writer) = stream.into_split();
    let mut buf = BytesMut::with_capacity(4096);
    loop {
        let request = match parse::read_request(&mut reader, &mut buf).await {
            Ok(Some(request)) => request,
            Ok(None) => return,
            Err(e) => {
                if let Some(status) = e.status() {
                    let bytes = parse::response(status, &[], format!("{e}\n").as_bytes(), true);
                    let _ = writer.write_all(&bytes).await;
                }
                return;
            }
        };
        let reply = handle(&request, context).await;
        let bytes = parse::response(
            reply.status,
            &reply.headers,
            reply.body.as_bytes(),
            request.close,
        );
        if writer.write_all(&bytes).await.is_err() || request.close {
            return;
        }
    }
}

async fn handle(request: &parse::HttpRequest, context: &HttpContext) -> Reply {
    let route = match api::route(request) {
        Ok(route) => route,
        Err(e) => return Reply::text(e.status, e.message),
    };
    match route {
        Route::Host(call) => {
            let (reply, answer) = oneshot::channel();
            if context
                .requests
                .send(Request { call, reply })
                .await
                .is_err()
            {
                return Reply::text(503, "the server is stopping");
            }
            let outcome = answer
                .await
                .unwrap_or_else(|_| Outcome::Unknown("the server stopped before answering".into()));
            api::render(outcome, context.me, &context.book, &request.target())
        }
        Route::Help => Reply::text(200, api::HELP),
        Route::Faults(commands) => {
            for command in &commands {
                context.faults.apply(command);
            }
            tracing::info!(rules = %context.faults.describe().trim_end().replace('\n', "; "), "fault switch set");
            Reply::text(200, context.faults.describe())
        }
        Route::FaultsList => Reply::text(200, context.faults.describe()),
        Route::FailpointSet { name, actions } => match fail::cfg(&name, &actions) {
            Ok(()) => {
                tracing::warn!(%name, %actions, "failpoint set");
                Reply::text(200, "ok")
            }
            Err(e) => Reply::text(400, format!("failpoint {name}: {e}")),
        },
        Route::FailpointRemove { name } => {
            fail::remove(&name);
            tracing::info!(%name, "failpoint cleared");
            Reply::text(200, "ok")
        }
        Route::FailpointList => {
            let mut text = String::new();
            for (name, actions) in fail::list() {
                text.push_str(&format!("{name}={actions}\n"));
            }
            Reply::text(200, text)
        }
    }
}
