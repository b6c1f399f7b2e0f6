-- The event store. The first seven columns are postgres-es's own; it names them in its INSERT,
-- so the columns after them are filled by their defaults.
CREATE TABLE events (
    aggregate_type text                         NOT NULL,
    aggregate_id   text                         NOT NULL,
    sequence       bigint CHECK (sequence >= 0) NOT NULL,
    event_type     text                         NOT NULL,
    event_version  text                         NOT NULL,
    payload        json                         NOT NULL,
    metadata       json                         NOT NULL,
    -- Insert order, not commit order: concurrent transactions can commit out of it.
    global_seq     bigint GENERATED ALWAYS AS IDENTITY,
    -- The writing transaction; with global_seq it gives the order the sequencer reads in.
    tx_id          xid8        NOT NULL DEFAULT pg_current_xact_id(),
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    -- The only unique key: a duplicate (aggregate, sequence) is an optimistic-lock conflict.
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
);
CREATE INDEX events_commit_order ON events (tx_id, global_seq);
CREATE INDEX events_global_seq ON events (global_seq);

-- Our own snapshots (cqrs-es 0.5's snapshot store double-applies events; see docs/adr/0002).
CREATE TABLE aggregate_snapshots (
    aggregate_type text        NOT NULL,
    aggregate_id   text        NOT NULL,
    last_sequence  bigint      NOT NULL,
    schema_version integer     NOT NULL,
    payload        jsonb       NOT NULL,
    taken_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (aggregate_type, aggregate_id)
);

-- The ordered log: one dense position per event, in commit order, assigned by a single writer.
CREATE TABLE event_log (
    position   bigint PRIMARY KEY,
    global_seq bigint NOT NULL UNIQUE,
    tx_id      xid8   NOT NULL
);

-- Where the sequencer has read up to in (tx_id, global_seq) order.
CREATE TABLE log_sequencer (
    id            integer PRIMARY KEY CHECK (id = 1),
    last_tx       xid8   NOT NULL,
    last_seq      bigint NOT NULL,
    last_position bigint NOT NULL
);
INSERT INTO log_sequencer (id, last_tx, last_seq, last_position) VALUES (1, '0'::xid8, 0, 0);

-- Each projection's position in event_log.
CREATE TABLE projection_checkpoints (
    name       text PRIMARY KEY,
    position   bigint      NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);
