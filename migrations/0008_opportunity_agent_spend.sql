-- The opportunity carries its cumulative agent spend (the sum of every recorded run's cost), as the
-- original system rolls usage up onto the opportunity. Existing rows take the sum of the runs
-- already recorded, so no rebuild is needed.
ALTER TABLE opportunities ADD COLUMN total_cost_usd numeric(14, 6) NOT NULL DEFAULT 0;
UPDATE opportunities o
   SET total_cost_usd = r.total
  FROM (SELECT opportunity_id, sum(cost_usd) AS total FROM agent_runs
         WHERE status = 'succeeded' GROUP BY opportunity_id) r
 WHERE r.opportunity_id = o.id;
