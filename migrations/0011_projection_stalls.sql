-- A projection that cannot apply an event stops alone: its checkpoint stays before that event and
-- the failure is recorded here, so every process (health, metrics, `osop replay`) can see it,
-- while the other projections keep going. Cleared when the projection gets past the event.
ALTER TABLE projection_checkpoints
    ADD COLUMN stalled_at       timestamptz,
    ADD COLUMN stalled_position bigint,
    ADD COLUMN stalled_error    text,
    ADD COLUMN stalled_attempts integer NOT NULL DEFAULT 0;
