//! Outgoing email through Mailgun's HTTP API; without a key the message is logged instead.
//! Every message is recorded in `email_outbox` either way.

use sqlx::PgPool;

use crate::config::MailgunSettings;

pub struct Mailer {
    settings: MailgunSettings,
    http: reqwest::Client,
    pool: PgPool,
}

pub struct Email<'a> {
    pub to: &'a str,
    pub subject: String,
    pub body: String,
    pub deeplink: String,
}

impl Mailer {
    pub fn new(settings: MailgunSettings, pool: PgPool) -> Self {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .expect("a TLS backend is compiled in");
        Self { settings, http, pool }
    }

    /// Sends (or logs) the email. Failures are logged, never raised: the decision it announces
    /// is already recorded, and the in-app notification still reaches the person.
    pub async fn send(&self, email: Email<'_>) {
        let delivery = if self.settings.api_key.is_empty() {
            tracing::info!(to = email.to, subject = %email.subject, deeplink = %email.deeplink,
                "MAILGUN_API_KEY is empty: email logged, not sent");
            "logged".to_string()
        } else {
            match self.post(&email).await {
                Ok(()) => "sent".to_string(),
                Err(e) => {
                    tracing::warn!(to = email.to, error = %e, "email could not be sent");
                    format!("failed: {e}")
                }
            }
        };
        let recorded = sqlx::query(
            "INSERT INTO email_outbox (to_email, subject, body, deeplink, delivery) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(email.to)
        .bind(&email.subject)
        .bind(&email.body)
        .bind(&email.deeplink)
        .bind(delivery)
        .execute(&self.pool)
        .await;
        if let Err(e) = recorded {
            tracing::warn!(error = %e, "email not recorded in the outbox");
        }
    }

    async fn post(&self, email: &Email<'_>) -> Result<(), reqwest::Error> {
        let url =
            format!("{}/v3/{}/messages", self.settings.base_url.trim_end_matches('/'), self.settings.domain);
        let text = format!("{}\n\n{}", email.body, email.deeplink);
        self.http
            .post(url)
            .basic_auth("api", Some(&self.settings.api_key))
            .form(&[
                ("from", self.settings.from.as_str()),
                ("to", email.to),
                ("subject", email.subject.as_str()),
                ("text", text.as_str()),
            ])
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }
}
