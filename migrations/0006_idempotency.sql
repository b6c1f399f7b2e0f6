-- Responses kept for retried writes (the Idempotency-Key header): not business facts, so not in the log.
CREATE TABLE idempotency_keys (
    -- Keys are scoped per caller: the signed-in user's lower-cased email.
    caller        text        NOT NULL,
    key           text        NOT NULL,
    -- SHA-256 of method, path and query, content type and body: a reused key with another request is refused.
    fingerprint   bytea       NOT NULL,
    -- NULL while the first request is still being processed.
    status        integer,
    headers       jsonb,
    body          bytea,
    started_at    timestamptz NOT NULL DEFAULT now(),
    completed_at  timestamptz,
    PRIMARY KEY (caller, key)
);
CREATE INDEX idempotency_keys_age ON idempotency_keys (started_at);
