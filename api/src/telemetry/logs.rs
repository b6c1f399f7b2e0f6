//! The tracing subscriber: human-readable lines by default, one JSON object per line with
//! `LOG_FORMAT=json` (span fields such as `request_id` included), filtered by `RUST_LOG`.

use tracing_subscriber::EnvFilter;

/// The default filter of the long-running services when `RUST_LOG` is unset or unreadable.
const SERVICE_FILTER: &str = "info,sqlx=warn,tower_http=info";
/// The one-shot commands' default: they print their own progress, logs would bury it.
const COMMAND_FILTER: &str = "warn";

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl LogFormat {
    /// `json` or `text` (any case); anything else is not a format.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "json" => Some(Self::Json),
            "text" | "pretty" | "plain" => Some(Self::Text),
            _ => None,
        }
    }
}

/// Installs the global subscriber; call once, first thing in `main`. `service`: a long-running
/// process (serve, worker), which logs at info by default; otherwise warnings only.
pub fn init(format: LogFormat, service: bool) {
    let default = if service { SERVICE_FILTER } else { COMMAND_FILTER };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| default.into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        // Flattened fields and the current span's fields make each line self-contained for a
        // log pipeline: a request's id appears on every line logged while serving it.
        LogFormat::Json => {
            builder.json().flatten_event(true).with_current_span(true).with_span_list(false).init()
        }
        LogFormat::Text => builder.init(),
    }
}

#[cfg(test)]
mod tests {
    use super::LogFormat;

    #[test]
    fn formats_parse_case_insensitively_and_unknown_ones_are_refused() {
        assert_eq!(LogFormat::parse("JSON"), Some(LogFormat::Json));
        assert_eq!(LogFormat::parse(" text "), Some(LogFormat::Text));
        assert_eq!(LogFormat::parse("xml"), None);
    }
}
