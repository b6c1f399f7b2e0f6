//! A Mailgun stand-in every test app sends its email to, so tests read approval links from the
//! messages as a person would (the outbox does not keep them once sent).

use std::sync::Arc;

use axum::extract::{Form, Path};
use axum::Router;
use tokio::sync::Mutex;

/// One message as Mailgun received it: recipient and text.
#[derive(Clone, Debug)]
pub struct Received {
    pub to: String,
    pub subject: String,
    pub text: String,
}

#[derive(Clone, Default)]
pub struct Mailbox {
    messages: Arc<Mutex<Vec<Received>>>,
}

impl Mailbox {
    /// Serves the mailbox on loopback; returns it and its base URL.
    pub async fn serve() -> (Self, String) {
        let mailbox = Self::default();
        let store = mailbox.messages.clone();
        let app = Router::new().route(
            "/v3/{domain}/messages",
            axum::routing::post(move |Path(_): Path<String>, Form(form): Form<Vec<(String, String)>>| {
                let store = store.clone();
                async move {
                    let field = |k: &str| {
                        form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default()
                    };
                    store.lock().await.push(Received {
                        to: field("to"),
                        subject: field("subject"),
                        text: field("text"),
                    });
                    axum::Json(serde_json::json!({"id": "<test@mailbox>", "message": "Queued. Thank you."}))
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (mailbox, format!("http://{addr}"))
    }

    pub async fn messages(&self) -> Vec<Received> {
        self.messages.lock().await.clone()
    }

    /// The link ending the newest message to `to`.
    pub async fn last_link_to(&self, to: &str) -> String {
        let messages = self.messages.lock().await;
        let m = messages
            .iter()
            .rev()
            .find(|m| m.to.eq_ignore_ascii_case(to))
            .unwrap_or_else(|| panic!("no email to {to}: {messages:?}"));
        m.text.lines().last().unwrap_or_default().to_string()
    }
}
