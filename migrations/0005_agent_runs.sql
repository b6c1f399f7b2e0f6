-- Agent runs, their artifacts and what they cost (read model, rebuilt from the log).
CREATE TABLE agent_runs (
    run_id                      uuid PRIMARY KEY,
    opportunity_id              uuid           NOT NULL,
    agent                       text           NOT NULL,
    stage                       integer        NOT NULL,
    status                      text           NOT NULL,
    input_digest                text           NOT NULL,
    prompt_version              text           NOT NULL,
    requested_by                text           NOT NULL,
    requested_at                timestamptz    NOT NULL,
    finished_at                 timestamptz,
    model                       text,
    input_tokens                bigint         NOT NULL DEFAULT 0,
    output_tokens               bigint         NOT NULL DEFAULT 0,
    cache_creation_input_tokens bigint         NOT NULL DEFAULT 0,
    cache_read_input_tokens     bigint         NOT NULL DEFAULT 0,
    cost_usd                    numeric(14, 6) NOT NULL DEFAULT 0,
    output                      jsonb,
    failure                     text
);
CREATE INDEX agent_runs_by_opportunity ON agent_runs (opportunity_id, stage, finished_at DESC);
