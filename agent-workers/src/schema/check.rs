//! A small JSON Schema walker covering the keywords our tool schemas use (`type`, `required`,
//! `properties`, `items`, `enum`, `minItems`, `maxItems`, `minLength`, `minimum`, `maximum` and the
//! `date` and `uuid` formats), plus the rules a schema cannot express.

use chrono::NaiveDate;
use domain::agent_run::Agent;
use serde_json::Value;
use uuid::Uuid;

/// Checks `value` against `schema`; `path` is where `value` sits in the output ("" for the root).
pub(super) fn against(schema: &Value, value: &Value, path: &str) -> Result<(), String> {
    let fail = |msg: String| Err(format!("{}: {msg}", if path.is_empty() { "output" } else { path }));

    if let Some(types) = schema.get("type") {
        let allowed: Vec<&str> = match types {
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            t => t.as_str().into_iter().collect(),
        };
        if !allowed.iter().any(|t| is_type(value, t)) {
            let names: Vec<&str> = allowed.iter().map(|t| type_name(t)).collect();
            return fail(format!("must be {}", either(&names)));
        }
    }
    if value.is_null() {
        return Ok(());
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array) {
        if !options.contains(value) {
            let names: Vec<&str> = options.iter().filter_map(Value::as_str).collect();
            return fail(format!("must be {}", either(&names)));
        }
    }
    if let Some(s) = value.as_str() {
        let min = schema.get("minLength").and_then(Value::as_u64).unwrap_or(0);
        if (s.trim().chars().count() as u64) < min {
            return fail("must not be empty".into());
        }
        match schema.get("format").and_then(Value::as_str) {
            Some("date") if NaiveDate::parse_from_str(s, "%Y-%m-%d").is_err() => {
                return fail(format!("must be a date as YYYY-MM-DD (got {s:?})"));
            }
            Some("uuid") if Uuid::parse_str(s).is_err() => {
                return fail(format!("must be a UUID (got {s:?})"))
            }
            _ => {}
        }
    }
    if let Some(n) = value.as_f64() {
        let min = schema.get("minimum").and_then(Value::as_f64);
        let max = schema.get("maximum").and_then(Value::as_f64);
        let low = min.is_some_and(|m| n < m);
        let high = max.is_some_and(|m| n > m);
        if low || high {
            return fail(match (min, max) {
                (Some(a), Some(b)) => format!("must be between {a} and {b} (got {n})"),
                (Some(a), None) => format!("must be at least {a} (got {n})"),
                (None, Some(b)) => format!("must be at most {b} (got {n})"),
                (None, None) => unreachable!("out of range needs a bound"),
            });
        }
    }
    if let Some(items) = value.as_array() {
        let n = items.len() as u64;
        if let Some(min) = schema.get("minItems").and_then(Value::as_u64).filter(|m| n < *m) {
            return fail(format!("must have at least {min} items (got {n})"));
        }
        if let Some(max) = schema.get("maxItems").and_then(Value::as_u64).filter(|m| n > *m) {
            return fail(format!("must have at most {max} items (got {n})"));
        }
        if let Some(item_schema) = schema.get("items") {
            for (i, item) in items.iter().enumerate() {
                against(item_schema, item, &format!("{path}[{i}]"))?;
            }
        }
    }
    if let Some(fields) = value.as_object() {
        let child = |key: &str| if path.is_empty() { key.to_string() } else { format!("{path}.{key}") };
        for key in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
            let key = key.as_str().unwrap_or_default();
            if !fields.contains_key(key) {
                return Err(format!("{}: is required", child(key)));
            }
        }
        for (key, sub) in schema.get("properties").and_then(Value::as_object).into_iter().flatten() {
            if let Some(v) = fields.get(key) {
                against(sub, v, &child(key))?;
            }
        }
    }
    Ok(())
}

/// The rules beyond the schema.
pub(super) fn rules(agent: Agent, output: &Value) -> Result<(), String> {
    if agent == Agent::Diagnosis {
        let clarifications = output["clarifications"].as_array().into_iter().flatten();
        for (i, c) in clarifications.enumerate() {
            let q = c["question"].as_str().unwrap_or_default();
            if !q.trim_end().ends_with('?') {
                return Err(format!("clarifications[{i}].question: must end with '?'"));
            }
        }
    }
    Ok(())
}

fn is_type(value: &Value, t: &str) -> bool {
    match t {
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "null" => value.is_null(),
        _ => false,
    }
}

fn type_name(t: &str) -> &str {
    match t {
        "string" => "a string",
        "integer" => "a whole number",
        "number" => "a number",
        "boolean" => "true or false",
        "array" => "a list",
        "object" => "an object",
        other => other,
    }
}

/// "a", "a or b", "a, b or c".
fn either(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}
