-- The 17 stage states move into their opportunity's row as one jsonb array (in stage order): a
-- stage change rewrites one row instead of seventeen, and the detail read is one row. The
-- opportunities read model is emptied and its checkpoint reset, so the projector rebuilds it
-- from the log on its next pass.
DROP TABLE stage_states;
ALTER TABLE opportunities ADD COLUMN stages jsonb NOT NULL DEFAULT '[]';
TRUNCATE opportunities;
UPDATE projection_checkpoints SET position = 0, updated_at = now() WHERE name = 'opportunities';
