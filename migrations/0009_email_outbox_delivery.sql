-- Email becomes a real outbox: a message is recorded first, then delivered with retries. Its
-- deeplink (which holds an approval's clear token) is kept only while delivery is pending and is
-- erased once the message is sent or given up. Messages recorded before this held their deeplink
-- for good: erase those now.
ALTER TABLE email_outbox
    ALTER COLUMN deeplink DROP NOT NULL,
    ADD COLUMN attempts        integer     NOT NULL DEFAULT 0,
    ADD COLUMN next_attempt_at timestamptz,
    ADD COLUMN last_error      text,
    ADD COLUMN finished_at     timestamptz;
UPDATE email_outbox
   SET deeplink = NULL,
       last_error = CASE WHEN delivery LIKE 'failed%' THEN delivery END,
       delivery = CASE WHEN delivery LIKE 'failed%' THEN 'failed' ELSE delivery END,
       finished_at = created_at;
-- `delivery`: pending (deeplink kept, next_attempt_at set), sent, failed (given up), or logged
-- (no Mailgun key: recorded, never sent).
CREATE INDEX email_outbox_due ON email_outbox (next_attempt_at) WHERE delivery = 'pending';
