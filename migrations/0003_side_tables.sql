-- State that is not derived from the opportunity log.

-- People who have signed in; roles are managed by admins.
CREATE TABLE app_users (
    id           bigserial PRIMARY KEY,
    email        text        NOT NULL,
    name         text        NOT NULL,
    role         text        NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX app_users_email ON app_users (lower(email));

-- Uploaded bytes and their extracted text, addressed by content; the log records only the digest.
CREATE TABLE file_blobs (
    sha256         text PRIMARY KEY,
    bytes          bytea       NOT NULL,
    extracted_text text        NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);

-- Which notifications a person has read (a personal flag, not a business fact).
CREATE TABLE notification_reads (
    notification_id uuid PRIMARY KEY,
    read_at         timestamptz NOT NULL DEFAULT now()
);

-- Every email the platform sent or, without Mailgun credentials, would have sent.
CREATE TABLE email_outbox (
    id         bigserial PRIMARY KEY,
    to_email   text        NOT NULL,
    subject    text        NOT NULL,
    body       text        NOT NULL,
    deeplink   text        NOT NULL,
    delivery   text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
