//! Outgoing email as an outbox: a message is recorded first, then delivered through Mailgun's
//! HTTP API with retries and backoff. Its deeplink (an approval's clear token) is stored only while
//! delivery is pending and erased once the message is sent or given up; it is never logged.
//! Without a Mailgun key a message is recorded as `logged` and never holds its deeplink.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tokio::sync::watch;

use crate::config::MailgunSettings;

/// Deliveries tried before a message is given up.
pub const MAX_ATTEMPTS: i32 = 6;

pub struct Mailer {
    settings: MailgunSettings,
    http: reqwest::Client,
    pool: PgPool,
}

pub struct Email<'a> {
    pub to: &'a str,
    pub subject: String,
    pub body: String,
    /// The link the message ends with; may carry a secret.
    pub deeplink: String,
}

#[derive(Debug, thiserror::Error)]
enum SendError {
    /// Worth trying again later: the network, a timeout, a 429 or a 5xx.
    #[error("Mailgun did not take the message (will retry): {0}")]
    Transient(#[source] reqwest::Error),
    /// Trying again would give the same answer: a wrong key or domain, a refused address.
    #[error("Mailgun refused the message: {0}")]
    Refused(#[source] reqwest::Error),
}

#[derive(sqlx::FromRow)]
struct Pending {
    to_email: String,
    subject: String,
    body: String,
    deeplink: Option<String>,
    attempts: i32,
}

/// The wait after `attempts` failed ones: 30 s, 1 min, 2 min … at most an hour.
pub fn backoff(attempts: i32) -> Duration {
    let doublings = (attempts - 1).clamp(0, 7) as u32;
    Duration::from_secs((30u64 << doublings).min(3_600))
}

impl Mailer {
    pub fn new(settings: MailgunSettings, pool: PgPool) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("a TLS backend is compiled in");
        Self { settings, http, pool }
    }

    /// Records the message and makes a first delivery attempt at once. Failures are logged, never
    /// raised: the decision the message announces is already recorded, the in-app notification
    /// still reaches the person, and the sender retries.
    pub async fn send(&self, email: Email<'_>) {
        let sending = !self.settings.api_key.is_empty();
        let recorded: Result<i64, sqlx::Error> = sqlx::query_scalar(
            "INSERT INTO email_outbox (to_email, subject, body, deeplink, delivery, next_attempt_at, finished_at)
             VALUES ($1, $2, $3, $4, $5, CASE WHEN $6 THEN now() END, CASE WHEN $6 THEN NULL ELSE now() END)
             RETURNING id",
        )
        .bind(email.to)
        .bind(&email.subject)
        .bind(&email.body)
        .bind(sending.then_some(&email.deeplink))
        .bind(if sending { "pending" } else { "logged" })
        .bind(sending)
        .fetch_one(&self.pool)
        .await;
        match recorded {
            Err(e) => tracing::warn!(error = %e, to = email.to, "email not recorded in the outbox"),
            Ok(id) if sending => {
                if let Err(e) = self.deliver_one(id).await {
                    tracing::warn!(error = %e, "email outbox unavailable; the sender will retry");
                }
            }
            // The link is left out on purpose: it may hold an approval's clear token.
            Ok(id) => tracing::info!(outbox_id = id, to = email.to, subject = %email.subject,
                "MAILGUN_API_KEY is empty: email recorded, not sent (its link is not kept)"),
        }
    }

    /// Delivers every pending message that is due; returns how many it attempted.
    pub async fn deliver_due(&self) -> Result<usize, sqlx::Error> {
        let due: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM email_outbox WHERE delivery = 'pending' AND next_attempt_at <= now()
              ORDER BY next_attempt_at LIMIT 100",
        )
        .fetch_all(&self.pool)
        .await?;
        for id in &due {
            self.deliver_one(*id).await?;
        }
        Ok(due.len())
    }

    /// One attempt at one message, holding its row so two senders never send it twice.
    async fn deliver_one(&self, id: i64) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let message: Option<Pending> = sqlx::query_as(
            "SELECT to_email, subject, body, deeplink, attempts FROM email_outbox
              WHERE id = $1 AND delivery = 'pending' FOR UPDATE SKIP LOCKED",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(m) = message else { return Ok(()) };
        let attempts = m.attempts + 1;
        match self.post(&m).await {
            Ok(()) => {
                Self::finish(&mut tx, id, attempts, "sent", None).await?;
                tracing::info!(outbox_id = id, to = %m.to_email, attempts, "email sent");
            }
            Err(e @ SendError::Transient(_)) if attempts < MAX_ATTEMPTS => {
                let next = Utc::now() + backoff(attempts);
                Self::retry(&mut tx, id, attempts, next, &e.to_string()).await?;
                tracing::warn!(outbox_id = id, to = %m.to_email, attempts, error = %e, "email will be retried");
            }
            Err(e) => {
                Self::finish(&mut tx, id, attempts, "failed", Some(&e.to_string())).await?;
                tracing::warn!(outbox_id = id, to = %m.to_email, attempts, error = %e, "email given up");
            }
        }
        tx.commit().await
    }

    /// Sent or given up: the deeplink (and its token) is erased.
    async fn finish(
        tx: &mut sqlx::PgConnection,
        id: i64,
        attempts: i32,
        delivery: &str,
        error: Option<&str>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE email_outbox SET delivery = $2, attempts = $3, last_error = coalesce($4, last_error),
                    deeplink = NULL, next_attempt_at = NULL, finished_at = now() WHERE id = $1",
        )
        .bind(id)
        .bind(delivery)
        .bind(attempts)
        .bind(error)
        .execute(tx)
        .await
        .map(|_| ())
    }

    async fn retry(
        tx: &mut sqlx::PgConnection,
        id: i64,
        attempts: i32,
        next: DateTime<Utc>,
        error: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE email_outbox SET attempts = $2, next_attempt_at = $3, last_error = $4 WHERE id = $1",
        )
        .bind(id)
        .bind(attempts)
        .bind(next)
        .bind(error)
        .execute(tx)
        .await
        .map(|_| ())
    }

    async fn post(&self, m: &Pending) -> Result<(), SendError> {
        let url =
            format!("{}/v3/{}/messages", self.settings.base_url.trim_end_matches('/'), self.settings.domain);
        let text = match &m.deeplink {
            Some(link) => format!("{}\n\n{link}", m.body),
            None => m.body.clone(),
        };
        let response = self
            .http
            .post(url)
            .basic_auth("api", Some(&self.settings.api_key))
            .form(&[
                ("from", self.settings.from.as_str()),
                ("to", m.to_email.as_str()),
                ("subject", m.subject.as_str()),
                ("text", text.as_str()),
            ])
            .send()
            .await
            .map_err(SendError::Transient)?;
        let status = response.status();
        response.error_for_status().map(|_| ()).map_err(|e| {
            if status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 408 {
                SendError::Transient(e)
            } else {
                SendError::Refused(e)
            }
        })
    }

    /// Delivers due messages every `every` until `shutdown` fires (retries of failed attempts).
    pub async fn run(&self, mut shutdown: watch::Receiver<bool>, every: Duration) {
        loop {
            if let Err(e) = self.deliver_due().await {
                tracing::warn!(error = %e, "email outbox unavailable; retrying");
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = shutdown.changed() => return,
            }
        }
    }
}
