-- Read models: every table here is rebuilt from the event log and holds nothing else.

CREATE TABLE opportunities (
    id              uuid PRIMARY KEY,
    name            text        NOT NULL,
    client_name     text,
    region          text,
    brands          jsonb       NOT NULL DEFAULT '[]',
    service_types   jsonb       NOT NULL DEFAULT '[]',
    deadline        date,
    go_live         date,
    description     text,
    model_type      text        NOT NULL,
    owner_email     text        NOT NULL,
    created_by      text        NOT NULL,
    status          text        NOT NULL,
    current_stage   integer     NOT NULL,
    deal_status     text        NOT NULL,
    lessons_learned text,
    version         bigint      NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    archived_at     timestamptz
);
CREATE INDEX opportunities_by_status ON opportunities (status, updated_at DESC);
CREATE INDEX opportunities_by_owner ON opportunities (lower(owner_email));

CREATE TABLE stage_states (
    opportunity_id uuid    NOT NULL,
    stage          integer NOT NULL,
    name           text    NOT NULL,
    status         text    NOT NULL,
    started_at     timestamptz,
    completed_at   timestamptz,
    PRIMARY KEY (opportunity_id, stage)
);

CREATE TABLE approvals (
    id             uuid PRIMARY KEY,
    opportunity_id uuid        NOT NULL,
    stage          integer     NOT NULL,
    role           text        NOT NULL,
    approver_email text        NOT NULL,
    token_digest   text        NOT NULL,
    status         text        NOT NULL,
    notes          text,
    requested_by   text        NOT NULL,
    requested_at   timestamptz NOT NULL,
    decided_by     text,
    decided_at     timestamptz,
    supersedes     uuid
);
CREATE INDEX approvals_by_opportunity ON approvals (opportunity_id, stage);
CREATE INDEX approvals_by_token ON approvals (token_digest);

CREATE TABLE notifications (
    id              uuid PRIMARY KEY,
    recipient_email text        NOT NULL,
    opportunity_id  uuid        NOT NULL,
    kind            text        NOT NULL,
    title           text        NOT NULL,
    body            text        NOT NULL,
    link            text        NOT NULL,
    created_at      timestamptz NOT NULL
);
CREATE INDEX notifications_by_recipient ON notifications (lower(recipient_email), created_at DESC);

CREATE TABLE opportunity_files (
    id             uuid PRIMARY KEY,
    opportunity_id uuid        NOT NULL,
    filename       text        NOT NULL,
    media_type     text        NOT NULL,
    size_bytes     bigint      NOT NULL,
    sha256         text        NOT NULL,
    text_chars     bigint      NOT NULL,
    uploaded_by    text        NOT NULL,
    uploaded_at    timestamptz NOT NULL
);
CREATE INDEX opportunity_files_by_opportunity ON opportunity_files (opportunity_id, uploaded_at);

-- The notifications projection's own note of who owns each opportunity.
CREATE TABLE notification_recipients (
    opportunity_id   uuid PRIMARY KEY,
    opportunity_name text NOT NULL,
    owner_email      text NOT NULL
);
