//! A fake Messages API on 127.0.0.1: answers `POST /v1/messages` from a script of replies (the
//! last one repeats) and records every request it receives.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

/// One scripted reply.
#[derive(Clone)]
pub struct Step {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Value,
    /// How long the server waits before answering.
    pub delay: Duration,
}

impl Step {
    pub fn ok(body: Value) -> Self {
        Step { status: 200, headers: vec![], body, delay: Duration::ZERO }
    }

    /// An error reply in the API's shape.
    pub fn error(status: u16, kind: &str, message: &str) -> Self {
        let body = json!({"type": "error", "error": {"type": kind, "message": message}});
        Step { status, headers: vec![], body, delay: Duration::ZERO }
    }

    pub fn with_header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_string()));
        self
    }

    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// A request as the server saw it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub headers: HeaderMap,
    pub body: Value,
}

#[derive(Clone)]
pub struct Fake {
    script: Arc<Mutex<VecDeque<Step>>>,
    requests: Arc<Mutex<Vec<Recorded>>>,
    pub base_url: String,
}

impl Fake {
    /// Starts a server answering with `steps` in order, repeating the last one.
    pub async fn start(steps: Vec<Step>) -> Fake {
        assert!(!steps.is_empty(), "a script needs at least one step");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let base_url = format!("http://{}", listener.local_addr().expect("local address"));
        let fake = Fake {
            script: Arc::new(Mutex::new(steps.into())),
            requests: Arc::new(Mutex::new(vec![])),
            base_url,
        };
        let app = Router::new().route("/v1/messages", post(messages)).with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.expect("fake server") });
        fake
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

async fn messages(State(fake): State<Fake>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    fake.requests.lock().unwrap().push(Recorded { headers, body });
    let step = {
        let mut script = fake.script.lock().unwrap();
        if script.len() > 1 {
            script.pop_front().unwrap()
        } else {
            script.front().unwrap().clone()
        }
    };
    tokio::time::sleep(step.delay).await;
    let mut headers = HeaderMap::new();
    for (name, value) in step.headers {
        headers.insert(name, value.parse().unwrap());
    }
    (StatusCode::from_u16(step.status).unwrap(), headers, Json(step.body)).into_response()
}

/// A successful Messages reply whose content is `content`.
pub fn reply(model: &str, content: Value, stop_reason: &str, usage: [u64; 4]) -> Value {
    json!({
        "id": "msg_test",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": null,
        "usage": {
            "input_tokens": usage[0],
            "output_tokens": usage[1],
            "cache_creation_input_tokens": usage[2],
            "cache_read_input_tokens": usage[3],
        },
    })
}

/// A reply calling `tool` with `input`, after a short text block.
pub fn tool_reply(model: &str, tool: &str, input: Value, usage: [u64; 4]) -> Value {
    let content = json!([
        {"type": "text", "text": "Calling the tool."},
        {"type": "tool_use", "id": "toolu_test", "name": tool, "input": input},
    ]);
    reply(model, content, "tool_use", usage)
}
