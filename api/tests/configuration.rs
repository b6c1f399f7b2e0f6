//! Configuration: a value the process cannot use stops it with a message naming the variable and
//! what it takes; nothing is silently replaced by a default. Secrets in URLs are never printed.

use std::collections::HashMap;
use std::time::Duration;

use api::auth::Role;
use api::config::{redact, ConfigError, Settings};
use api::telemetry::LogFormat;

fn read(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Settings::from_source(&move |name: &str| vars.get(name).cloned())
}

fn refused(vars: &[(&str, &str)]) -> (String, String) {
    match read(vars) {
        Err(ConfigError::Invalid { name, expected, .. }) => (name.to_string(), expected.to_string()),
        other => panic!("{vars:?} was accepted: {other:?}"),
    }
}

#[test]
fn defaults_apply_when_a_variable_is_unset_or_blank() {
    let s = read(&[("MAX_UPLOAD_MB", " "), ("LOG_FORMAT", "")]).unwrap();
    assert_eq!(s.max_upload_bytes, 25 * 1024 * 1024);
    assert_eq!(s.log_format, LogFormat::Text);
    assert!(s.dev_identity.is_none());
    assert_eq!(s.agent_sync_wait, Duration::from_secs(60));
    assert!(s.cors_allowed_origins.is_empty());
    assert_eq!(s.default_user_role, Role::Viewer);
}

#[test]
fn good_values_are_read() {
    let s = read(&[
        ("MAX_UPLOAD_MB", "10"),
        ("LOG_FORMAT", "JSON"),
        ("DEV_AUTH_BYPASS", "yes"),
        ("DEV_AUTH_ROLE", "Editor"),
        ("AGENT_SYNC_WAIT_SECS", "5"),
        ("CORS_ALLOWED_ORIGINS", "http://localhost:3011, https://app.example.com"),
        ("DEFAULT_USER_ROLE", " Editor "),
    ])
    .unwrap();
    assert_eq!(s.default_user_role, Role::Editor);
    assert_eq!(s.max_upload_bytes, 10 * 1024 * 1024);
    assert_eq!(s.log_format, LogFormat::Json);
    assert_eq!(s.dev_identity.unwrap().role, Role::Editor);
    assert_eq!(s.agent_sync_wait, Duration::from_secs(5));
    assert_eq!(s.cors_allowed_origins, ["http://localhost:3011", "https://app.example.com"]);
}

#[test]
fn bad_values_are_refused_naming_the_variable_and_what_it_takes() {
    for (vars, name, hint) in [
        (vec![("MAX_UPLOAD_MB", "25MB")], "MAX_UPLOAD_MB", "MiB"),
        (vec![("MAX_UPLOAD_MB", "0")], "MAX_UPLOAD_MB", "1 to 1024"),
        (vec![("LOG_FORMAT", "jsno")], "LOG_FORMAT", "text or json"),
        (
            vec![("DEV_AUTH_BYPASS", "true"), ("DEV_AUTH_ROLE", "superuser")],
            "DEV_AUTH_ROLE",
            "viewer, editor or admin",
        ),
        (vec![("DEV_AUTH_BYPASS", "ture")], "DEV_AUTH_BYPASS", "true or false"),
        (vec![("SNAPSHOT_EVERY", "-1")], "SNAPSHOT_EVERY", "events"),
        (vec![("LLM_PROVIDER", "openai")], "LLM_PROVIDER", "offline or anthropic"),
        (vec![("AGENT_SYNC_WAIT_SECS", "121")], "AGENT_SYNC_WAIT_SECS", "0 to 120"),
        (vec![("AGENT_ACK_WAIT_MS", "5")], "AGENT_ACK_WAIT_MS", "100"),
        (vec![("DATABASE_ACQUIRE_TIMEOUT_MS", "3s")], "DATABASE_ACQUIRE_TIMEOUT_MS", "milliseconds"),
        (vec![("CORS_ALLOWED_ORIGINS", "localhost:3011")], "CORS_ALLOWED_ORIGINS", "origins"),
        (vec![("CORS_ALLOWED_ORIGINS", "https://app.example.com/path")], "CORS_ALLOWED_ORIGINS", "no path"),
        (vec![("DEFAULT_USER_ROLE", "boss")], "DEFAULT_USER_ROLE", "viewer or editor"),
        // Everyone in the tenant an admin by default: refused.
        (vec![("DEFAULT_USER_ROLE", "admin")], "DEFAULT_USER_ROLE", "viewer or editor"),
    ] {
        let (named, expected) = refused(&vars);
        assert_eq!(named, name, "{vars:?}");
        assert!(expected.contains(hint), "{vars:?}: {expected}");
        let message = read(&vars).unwrap_err().to_string();
        assert!(message.starts_with(name) && message.contains(hint), "{message}");
    }
}

#[test]
fn serving_without_a_way_to_sign_in_is_refused() {
    assert!(matches!(read(&[]).unwrap().check_sign_in(), Err(ConfigError::SignInNotConfigured)));
    let only_tenant = read(&[("AZURE_TENANT_ID", "11111111-2222-3333-4444-555555555555")]).unwrap();
    assert!(matches!(only_tenant.check_sign_in(), Err(ConfigError::SignInNotConfigured)));
    let entra =
        read(&[("AZURE_TENANT_ID", "11111111-2222-3333-4444-555555555555"), ("AZURE_CLIENT_ID", "osop")])
            .unwrap();
    assert!(entra.check_sign_in().is_ok());
    assert!(read(&[("DEV_AUTH_BYPASS", "true")]).unwrap().check_sign_in().is_ok());
    let message = ConfigError::SignInNotConfigured.to_string();
    assert!(message.contains("AZURE_CLIENT_ID") && message.contains("DEV_AUTH_BYPASS"), "{message}");
}

#[test]
fn passwords_in_urls_are_redacted() {
    assert_eq!(
        redact("postgres://osop:s3cret@db.internal:5432/osop"),
        "postgres://osop:***@db.internal:5432/osop"
    );
    assert_eq!(redact("nats://user:pa%40ss@127.0.0.1:4222"), "nats://user:***@127.0.0.1:4222");
    assert_eq!(redact("postgres://postgres@127.0.0.1:5432/osop"), "postgres://postgres@127.0.0.1:5432/osop");
    assert!(!redact("not a url:s3cret@host").contains("s3cret"));
}

#[test]
fn the_example_environment_is_valid_and_reaches_the_compose_database() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let vars: HashMap<String, String> =
        dotenvy::from_path_iter(format!("{root}/.env.example")).unwrap().map(|pair| pair.unwrap()).collect();
    let settings = Settings::from_source(&|name: &str| vars.get(name).cloned()).unwrap();
    settings.check_sign_in().unwrap();

    let compose = std::fs::read_to_string(format!("{root}/compose.yaml")).unwrap();
    let value = |key: &str| {
        compose
            .lines()
            .find_map(|l| l.trim().strip_prefix(&format!("{key}:")).map(|v| v.trim().to_string()))
            .unwrap_or_else(|| panic!("{key} is not in compose.yaml"))
    };
    let url = reqwest::Url::parse(&settings.database_url).unwrap();
    assert_eq!(url.username(), value("POSTGRES_USER"));
    assert_eq!(url.password(), Some(value("POSTGRES_PASSWORD").as_str()));
    assert_eq!(url.path(), format!("/{}", value("POSTGRES_DB")));
    assert_eq!(url.port(), Some(5432));
}

#[test]
fn connection_limits_have_safe_defaults_and_refuse_what_cannot_work() {
    use api::connections::ConnectionLimits;
    let s = read(&[("MAX_CONNECTIONS", ""), ("IDLE_TIMEOUT_SECS", " ")]).unwrap();
    assert_eq!(s.connections, ConnectionLimits::default());
    assert_eq!(s.connections.max_connections, 512);
    assert_eq!(s.connections.header_read_timeout, Duration::from_secs(10));
    assert_eq!(s.connections.body_read_timeout, Duration::from_secs(120));
    assert_eq!(s.connections.idle_timeout, Duration::from_secs(60));
    let s = read(&[
        ("MAX_CONNECTIONS", "64"),
        ("HEADER_READ_TIMEOUT_SECS", "5"),
        ("BODY_READ_TIMEOUT_SECS", "30"),
        ("IDLE_TIMEOUT_SECS", "15"),
    ])
    .unwrap();
    let expected = ConnectionLimits {
        max_connections: 64,
        header_read_timeout: Duration::from_secs(5),
        body_read_timeout: Duration::from_secs(30),
        idle_timeout: Duration::from_secs(15),
    };
    assert_eq!(s.connections, expected);
    for (name, value, hint) in [
        ("MAX_CONNECTIONS", "0", "1 to 100000"),
        ("MAX_CONNECTIONS", "many", "connections"),
        ("HEADER_READ_TIMEOUT_SECS", "0", "1 to 300"),
        ("BODY_READ_TIMEOUT_SECS", "2m", "seconds"),
        ("IDLE_TIMEOUT_SECS", "3601", "1 to 3600"),
    ] {
        let (named, expected) = refused(&[(name, value)]);
        assert_eq!(named, name);
        assert!(expected.contains(hint), "{name}={value}: {expected}");
    }
}
