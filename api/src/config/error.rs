//! What stops the process at start: a setting it cannot use, named with what it takes.

/// A configuration value the process cannot start with: it names the variable and what it takes.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A `.env` (or the local stack's file) that is there but cannot be read: silently ignoring
    /// it would run with settings the user did not choose.
    #[error("{path} cannot be read (quote values with spaces, e.g. NAME=\"two words\"): {source}")]
    EnvFile { path: String, source: dotenvy::Error },
    #[error("{name}={value:?} is not valid: {name} takes {expected}")]
    Invalid { name: &'static str, value: String, expected: &'static str },
    #[error(
        "sign-in is not configured: set AZURE_TENANT_ID and AZURE_CLIENT_ID (the Entra ID app that \
         issues the tokens), or DEV_AUTH_BYPASS=true for a local development identity"
    )]
    SignInNotConfigured,
}
