//! The Anthropic provider: one Messages API call per run, with the agent's tool forced through
//! `tool_choice`, prompt caching on the large stable inputs (the system prompt, and the catalog for
//! the matcher), and the reply's tool input validated against the agent's schema.
//!
//! Failures are sorted for the queue: rate limits, overload, 5xx, timeouts and connection errors
//! are retried here with exponential backoff and jitter (or the server's `retry-after`), and only
//! after `max_attempts` calls become [`ProviderError::Transient`], so the queue may redeliver. A
//! rejected request (400, 401, 403, 404, …), a malformed tool input or an unpriced model is
//! [`ProviderError::Permanent`]: trying again would give the same answer.

mod wire;

use std::time::Duration;

use async_trait::async_trait;
use domain::agent_run::Agent;
use reqwest::StatusCode;
use serde_json::Value;

use crate::pricing::PriceTable;
use crate::provider::{AgentInputs, Provider, ProviderError, ProviderOutput};
use crate::schema;

/// The API version sent as `anthropic-version`.
pub const API_VERSION: &str = "2023-06-01";
/// Where the API lives unless configured otherwise.
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
/// The model used unless configured otherwise.
pub const DEFAULT_MODEL: &str = "claude-sonnet-4-5";
/// Statuses worth another attempt: rate limited, server error, bad gateway, unavailable, gateway
/// timeout, request timeout and Anthropic's "overloaded".
pub const RETRYABLE: [u16; 7] = [408, 429, 500, 502, 503, 504, 529];
/// The longest `retry-after` honoured; a longer one is cut to this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// How to reach the API and how hard to try.
#[derive(Clone)]
pub struct AnthropicConfig {
    pub base_url: String,
    pub api_key: String,
    pub model: String,
    pub max_tokens: u32,
    /// Per attempt, from sending the request to reading the whole reply.
    pub timeout: Duration,
    /// Calls per run at most, the first included.
    pub max_attempts: u32,
    /// The wait before the second attempt; it doubles each time up to `backoff_max`, and a random
    /// half of it is jitter.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
}

impl std::fmt::Debug for AnthropicConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnthropicConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .field("model", &self.model)
            .field("max_tokens", &self.max_tokens)
            .field("timeout", &self.timeout)
            .field("max_attempts", &self.max_attempts)
            .field("backoff_base", &self.backoff_base)
            .field("backoff_max", &self.backoff_max)
            .finish()
    }
}

impl AnthropicConfig {
    /// The defaults for a key: the public API, [`DEFAULT_MODEL`], 16 384 output tokens, 5 minutes
    /// per attempt, 4 attempts, backoff from 1 s up to 30 s.
    pub fn new(api_key: impl Into<String>) -> Self {
        AnthropicConfig {
            base_url: DEFAULT_BASE_URL.into(),
            api_key: api_key.into(),
            model: DEFAULT_MODEL.into(),
            max_tokens: 16_384,
            timeout: Duration::from_secs(300),
            max_attempts: 4,
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(30),
        }
    }

    /// `ANTHROPIC_API_KEY` (required), and optionally `ANTHROPIC_MODEL`, `ANTHROPIC_BASE_URL`,
    /// `ANTHROPIC_MAX_TOKENS`, `ANTHROPIC_TIMEOUT_SECS` and `ANTHROPIC_MAX_ATTEMPTS`.
    pub fn from_env() -> Result<Self, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let key = var("ANTHROPIC_API_KEY").ok_or("ANTHROPIC_API_KEY is not set")?;
        let mut c = Self::new(key);
        if let Some(m) = var("ANTHROPIC_MODEL") {
            c.model = m;
        }
        if let Some(u) = var("ANTHROPIC_BASE_URL") {
            c.base_url = u;
        }
        let number = |name: &str| -> Result<Option<u64>, String> {
            var(name)
                .map(|v| v.trim().parse::<u64>().map_err(|_| format!("{name}: {v:?} is not a whole number")))
                .transpose()
        };
        if let Some(n) = number("ANTHROPIC_MAX_TOKENS")? {
            c.max_tokens = u32::try_from(n).map_err(|_| "ANTHROPIC_MAX_TOKENS: too large".to_string())?;
        }
        if let Some(n) = number("ANTHROPIC_TIMEOUT_SECS")? {
            c.timeout = Duration::from_secs(n);
        }
        if let Some(n) = number("ANTHROPIC_MAX_ATTEMPTS")? {
            c.max_attempts = u32::try_from(n).map_err(|_| "ANTHROPIC_MAX_ATTEMPTS: too large".to_string())?;
        }
        Ok(c)
    }
}

pub struct AnthropicProvider {
    client: reqwest::Client,
    base_url: String,
    api_key: String,
    model: String,
    max_tokens: u32,
    timeout: Duration,
    max_attempts: u32,
    backoff_base: Duration,
    backoff_max: Duration,
    prices: PriceTable,
}

impl AnthropicProvider {
    /// Refuses a configuration that could never succeed or never be costed: no key, no attempts,
    /// no output tokens, or a model the price table does not know.
    pub fn new(config: AnthropicConfig, prices: PriceTable) -> Result<Self, String> {
        if config.api_key.trim().is_empty() {
            return Err("the Anthropic API key is empty".into());
        }
        if config.max_attempts == 0 || config.max_tokens == 0 {
            return Err("max_attempts and max_tokens must be at least 1".into());
        }
        if prices.get(&config.model).is_none() {
            return Err(format!(
                "no price for model {:?}: add it to {}",
                config.model,
                crate::pricing::PRICES_ENV
            ));
        }
        let client = reqwest::Client::builder()
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(AnthropicProvider {
            client,
            base_url: config.base_url.trim_end_matches('/').to_string(),
            api_key: config.api_key,
            model: config.model,
            max_tokens: config.max_tokens,
            timeout: config.timeout,
            max_attempts: config.max_attempts,
            backoff_base: config.backoff_base,
            backoff_max: config.backoff_max,
            prices,
        })
    }

    /// Sends the request until it succeeds, fails for good, or runs out of attempts.
    async fn call(&self, body: &Value) -> Result<Value, ProviderError> {
        let url = format!("{}/v1/messages", self.base_url);
        let mut last = String::new();
        for attempt in 1..=self.max_attempts {
            let mut retry_after = None;
            let sent = self
                .client
                .post(&url)
                .header("x-api-key", &self.api_key)
                .header("anthropic-version", API_VERSION)
                .json(body)
                .timeout(self.timeout)
                .send()
                .await;
            match sent {
                Ok(response) => {
                    let status = response.status();
                    retry_after = wire::retry_after(response.headers());
                    match response.bytes().await {
                        Ok(bytes) if status.is_success() => {
                            return serde_json::from_slice(&bytes)
                                .map_err(|e| ProviderError::Permanent(format!("malformed response: {e}")));
                        }
                        Ok(bytes) => {
                            let message = wire::error_message(status, &bytes);
                            if !is_retryable(status) {
                                return Err(ProviderError::Permanent(message));
                            }
                            last = message;
                        }
                        Err(e) => last = format!("reading the Anthropic reply failed: {e}"),
                    }
                }
                Err(e) if e.is_builder() => {
                    return Err(ProviderError::Permanent(format!("bad request: {e}")))
                }
                Err(e) if e.is_timeout() => last = format!("no Anthropic reply within {:?}", self.timeout),
                Err(e) => last = format!("calling Anthropic failed: {e}"),
            }
            if attempt < self.max_attempts {
                let wait = self.backoff(attempt, retry_after);
                tracing::warn!(attempt, max_attempts = self.max_attempts, ?wait, reason = %last, "retrying Anthropic call");
                tokio::time::sleep(wait).await;
            }
        }
        Err(ProviderError::Transient(format!("{last} (gave up after {} attempts)", self.max_attempts)))
    }

    /// The wait after failed attempt `attempt` (1-based): the server's `retry-after` when given,
    /// else `backoff_base × 2^(attempt-1)` capped at `backoff_max`, of which a random half is jitter.
    fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(wait) = retry_after {
            return wait.min(MAX_RETRY_AFTER);
        }
        let exp = self.backoff_base.saturating_mul(1u32 << (attempt - 1).min(20)).min(self.backoff_max);
        let half = exp / 2;
        half + half.mul_f64(rand::random::<f64>())
    }
}

fn is_retryable(status: StatusCode) -> bool {
    RETRYABLE.contains(&status.as_u16())
}

fn malformed(e: String) -> ProviderError {
    ProviderError::Permanent(format!("malformed tool input: {e}"))
}

#[async_trait]
impl Provider for AnthropicProvider {
    fn name(&self) -> &str {
        &self.model
    }

    async fn run(&self, agent: Agent, inputs: &AgentInputs) -> Result<ProviderOutput, ProviderError> {
        let body = wire::request_body(agent, inputs, &self.model, self.max_tokens);
        let reply = wire::parse_reply(agent, &self.call(&body).await?).map_err(malformed)?;
        schema::validate(agent, &reply.output).map_err(malformed)?;
        if agent == Agent::Matcher {
            schema::check_matcher_references(&reply.output, inputs).map_err(malformed)?;
        }
        let cost_usd = self.prices.cost(&reply.model, &reply.usage).map_err(ProviderError::Permanent)?;
        Ok(ProviderOutput { output: reply.output, model: reply.model, usage: reply.usage, cost_usd })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(base: u64, max: u64) -> AnthropicProvider {
        let config = AnthropicConfig {
            backoff_base: Duration::from_millis(base),
            backoff_max: Duration::from_millis(max),
            ..AnthropicConfig::new("key")
        };
        AnthropicProvider::new(config, PriceTable::default()).unwrap()
    }

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap() {
        let p = provider(100, 1_000);
        for _ in 0..50 {
            for (attempt, full) in [(1, 100), (2, 200), (3, 400), (4, 800), (5, 1_000), (30, 1_000)] {
                let wait = p.backoff(attempt, None);
                let full = Duration::from_millis(full);
                assert!(wait >= full / 2 && wait <= full, "attempt {attempt}: {wait:?}");
            }
        }
    }

    #[test]
    fn retry_after_is_honoured_up_to_a_minute() {
        let p = provider(100, 1_000);
        assert_eq!(p.backoff(1, Some(Duration::from_secs(7))), Duration::from_secs(7));
        assert_eq!(p.backoff(1, Some(Duration::from_secs(600))), MAX_RETRY_AFTER);
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("retry-after", "3".parse().unwrap());
        assert_eq!(wire::retry_after(&headers), Some(Duration::from_secs(3)));
        headers.insert("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap());
        assert_eq!(wire::retry_after(&headers), None);
    }

    #[test]
    fn error_messages_come_from_the_api_body_or_the_raw_text() {
        let body = br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
        assert_eq!(
            wire::error_message(StatusCode::from_u16(529).unwrap(), body),
            "anthropic 529 overloaded_error: Overloaded"
        );
        assert_eq!(
            wire::error_message(StatusCode::BAD_GATEWAY, b"<html>bad gateway</html>"),
            "anthropic 502: <html>bad gateway</html>"
        );
        assert!(is_retryable(StatusCode::TOO_MANY_REQUESTS) && !is_retryable(StatusCode::UNAUTHORIZED));
    }

    #[test]
    fn the_debug_form_hides_the_key() {
        let shown = format!("{:?}", AnthropicConfig::new("sk-secret"));
        assert!(!shown.contains("sk-secret") && shown.contains("redacted"));
    }
}
