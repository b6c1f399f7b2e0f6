-- The commercial pipeline (stages 3–11). Read models are rebuilt from the log; the catalog is
-- versioned reference data (see docs/adr/0004).

ALTER TABLE opportunities
    ADD COLUMN qualification_total          integer,
    ADD COLUMN qualification_percentage     double precision,
    ADD COLUMN qualification_recommendation text;

-- Every TROWLS scorecard ever saved (the latest one is stamped on the opportunity).
CREATE TABLE qualification_scorecards (
    event_id       uuid PRIMARY KEY,
    opportunity_id uuid             NOT NULL,
    version        bigint           NOT NULL,
    timing         integer          NOT NULL,
    relationship   integer          NOT NULL,
    opportunity    integer          NOT NULL,
    what_we_know   integer          NOT NULL,
    location       integer          NOT NULL,
    sector         integer          NOT NULL,
    total          integer          NOT NULL,
    percentage     double precision NOT NULL,
    recommendation text             NOT NULL,
    notes          text,
    scored_by      text             NOT NULL,
    scored_at      timestamptz      NOT NULL
);
CREATE INDEX qualification_scorecards_by_opportunity ON qualification_scorecards (opportunity_id, version DESC);

CREATE TABLE clarifications (
    id               uuid PRIMARY KEY,
    opportunity_id   uuid        NOT NULL,
    category         text        NOT NULL,
    question         text        NOT NULL,
    rationale        text        NOT NULL,
    priority         text        NOT NULL,
    source_stage     integer     NOT NULL,
    status           text        NOT NULL,
    client_answer    text,
    answered_at      timestamptz,
    dismissal_reason text,
    position         bigint      NOT NULL,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL
);
CREATE INDEX clarifications_by_opportunity ON clarifications (opportunity_id, position);

CREATE TABLE assets (
    id              uuid PRIMARY KEY,
    opportunity_id  uuid        NOT NULL,
    raw_name        text        NOT NULL,
    raw_description text,
    client_tier     text,
    volume          integer     NOT NULL,
    position        bigint      NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX assets_by_opportunity ON assets (opportunity_id, position);

CREATE TABLE asset_matches (
    id                 uuid PRIMARY KEY,
    opportunity_id     uuid             NOT NULL,
    asset_id           uuid             NOT NULL,
    catalog_id         text             NOT NULL,
    catalog_asset_name text             NOT NULL,
    confidence         text             NOT NULL,
    score              double precision NOT NULL,
    rank               integer          NOT NULL,
    reasoning          text             NOT NULL,
    caveats            text             NOT NULL,
    is_selected        boolean          NOT NULL,
    proposed_at        timestamptz      NOT NULL
);
CREATE INDEX asset_matches_by_asset ON asset_matches (opportunity_id, asset_id, rank);

CREATE TABLE ratecards (
    opportunity_id  uuid PRIMARY KEY,
    catalog_version bigint      NOT NULL,
    model_type      text        NOT NULL,
    currency        text,
    stale           boolean     NOT NULL,
    built_at        timestamptz NOT NULL
);

CREATE TABLE ratecard_lines (
    opportunity_id     uuid             NOT NULL,
    line_no            integer          NOT NULL,
    asset_id           uuid             NOT NULL,
    asset_name         text             NOT NULL,
    client_tier        text,
    catalog_id         text             NOT NULL,
    catalog_asset_name text             NOT NULL,
    role               text             NOT NULL,
    discipline         text             NOT NULL,
    role_location      text             NOT NULL,
    -- Hours for ONE asset; every total multiplies by volume.
    base_hours         double precision NOT NULL,
    volume             integer          NOT NULL,
    rate               numeric(12, 2),
    PRIMARY KEY (opportunity_id, line_no)
);

CREATE TABLE efficiency_profiles (
    opportunity_id       uuid PRIMARY KEY,
    scenario             text             NOT NULL,
    blanket_pct          double precision NOT NULL,
    discipline_overrides jsonb            NOT NULL,
    tools_applied        jsonb            NOT NULL,
    notes                text,
    saved_by             text             NOT NULL,
    saved_at             timestamptz      NOT NULL
);

-- Proposal summaries handed to downstream systems (stage 17).
CREATE TABLE handoffs (
    opportunity_id uuid PRIMARY KEY,
    summary        jsonb       NOT NULL,
    handed_off_at  timestamptz NOT NULL
);

-- The catalog of hour routes: immutable versions, the highest is current.
CREATE TABLE catalog_versions (
    version     bigint PRIMARY KEY,
    source      text        NOT NULL,
    entry_count integer     NOT NULL,
    imported_by text        NOT NULL,
    imported_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE catalog_entries (
    version     bigint NOT NULL REFERENCES catalog_versions (version),
    catalog_id  text   NOT NULL,
    category    text   NOT NULL,
    sub_category text  NOT NULL,
    asset_name  text   NOT NULL,
    complexity  text   NOT NULL,
    search_text text   NOT NULL,
    entry       jsonb  NOT NULL,
    PRIMARY KEY (version, catalog_id)
);
CREATE INDEX catalog_entries_by_category ON catalog_entries (version, category);
