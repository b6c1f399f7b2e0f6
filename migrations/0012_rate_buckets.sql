-- Token buckets for rate limits that hold across every process of a deployment (e.g. agent runs
-- per user and per opportunity): `tokens` as of `refreshed_at`, refilled on each take.
CREATE TABLE rate_buckets (
    key          text PRIMARY KEY,
    tokens       double precision NOT NULL,
    refreshed_at timestamptz      NOT NULL DEFAULT now()
);
