//! Azure Entra ID bearer tokens: RS256 signature against the tenant's JWKS, audience, issuer, expiry
//! and not-before (both with the same 30 s leeway for clock skew).
//!
//! Keys are cached; a token with an unknown `kid` triggers one refetch (rate-limited), which is how
//! key rotation is picked up.

use std::collections::HashMap;
use std::time::Instant;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use tokio::sync::{Mutex, RwLock};

use super::users::{DirectoryId, Identity};
use super::Role;
use crate::config::AzureSettings;
use crate::error::ApiError;

pub struct EntraVerifier {
    settings: AzureSettings,
    http: reqwest::Client,
    keys: RwLock<HashMap<String, DecodingKey>>,
    last_fetch: Mutex<Option<Instant>>,
}

#[derive(Deserialize)]
struct TokenClaims {
    /// The user's object id: stable and unique within the tenant (the email and UPN may change).
    oid: Option<String>,
    tid: Option<String>,
    preferred_username: Option<String>,
    email: Option<String>,
    upn: Option<String>,
    name: Option<String>,
    /// App roles assigned to the user in the directory (e.g. `OSOP.Editor`).
    #[serde(default)]
    roles: Vec<String>,
}

fn unauthenticated(why: impl Into<String>) -> ApiError {
    ApiError::Unauthenticated(why.into())
}

impl EntraVerifier {
    pub fn new(settings: AzureSettings) -> Self {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .expect("a TLS backend is compiled in");
        Self { settings, http, keys: RwLock::new(HashMap::new()), last_fetch: Mutex::new(None) }
    }

    /// Who a valid token says the caller is: their directory ids, email, name and app role.
    pub async fn verify(&self, token: &str) -> Result<Identity, ApiError> {
        // `alg: none` and unknown algorithms fail here: the header parser only knows real ones.
        let header = decode_header(token).map_err(|e| unauthenticated(format!("malformed token: {e}")))?;
        if header.alg != Algorithm::RS256 {
            return Err(unauthenticated("tokens must be signed with RS256"));
        }
        let kid = header.kid.ok_or_else(|| unauthenticated("the token names no signing key (kid)"))?;
        let key = self.key(&kid).await?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&[&self.settings.client_id]);
        validation.set_issuer(&[&self.settings.issuer]);
        validation.set_required_spec_claims(&["exp", "aud", "iss"]);
        // jsonwebtoken leaves `nbf` unchecked unless asked: a token valid only later is refused now.
        validation.validate_nbf = true;
        validation.leeway = 30;
        let data = decode::<TokenClaims>(token, &key, &validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind as K;
            unauthenticated(match e.kind() {
                K::ExpiredSignature => "the token has expired".to_string(),
                K::ImmatureSignature => "the token is not valid yet (nbf is in the future)".to_string(),
                K::InvalidAudience => "the token is for another application (audience)".to_string(),
                K::InvalidIssuer => "the token was issued by another tenant (issuer)".to_string(),
                K::InvalidSignature => "the token's signature does not verify".to_string(),
                other => format!("invalid token: {other:?}"),
            })
        })?;
        let c = data.claims;
        let (Some(tenant_id), Some(object_id)) =
            (c.tid.filter(|t| !t.is_empty()), c.oid.filter(|o| !o.is_empty()))
        else {
            return Err(unauthenticated("the token names no user: it needs the tid and oid claims"));
        };
        let email = c
            .email
            .or(c.preferred_username)
            .or(c.upn)
            .ok_or_else(|| unauthenticated("the token carries no email or username"))?;
        let name = c.name.unwrap_or_else(|| email.clone());
        let role = Role::from_app_roles(c.roles.iter().map(String::as_str));
        Ok(Identity { directory_id: Some(DirectoryId { tenant_id, object_id }), email, name, role })
    }

    async fn key(&self, kid: &str) -> Result<DecodingKey, ApiError> {
        if let Some(k) = self.keys.read().await.get(kid) {
            return Ok(k.clone());
        }
        self.refetch().await?;
        self.keys
            .read()
            .await
            .get(kid)
            .cloned()
            .ok_or_else(|| unauthenticated("the token's signing key is unknown"))
    }

    async fn refetch(&self) -> Result<(), ApiError> {
        let mut last = self.last_fetch.lock().await;
        if last.is_some_and(|t| t.elapsed() < self.settings.jwks_min_refetch) {
            return Ok(());
        }
        *last = Some(Instant::now());
        let set: JwkSet =
            async { self.http.get(&self.settings.jwks_url).send().await?.error_for_status()?.json().await }
                .await
                .map_err(|e: reqwest::Error| {
                    ApiError::Unavailable(format!("signing keys could not be fetched: {e}"))
                })?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            if let (Some(kid), Ok(key)) = (jwk.common.key_id.clone(), DecodingKey::from_jwk(jwk)) {
                keys.insert(kid, key);
            }
        }
        *self.keys.write().await = keys;
        Ok(())
    }
}
