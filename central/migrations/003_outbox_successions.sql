-- New outboxes announced by the gateway (`outbox.created` events, docs/payload.md): which outbox
-- came before, and its last seq. The previous outbox's seqs above what was received, up to its
-- last seq, were lost at the tail: tail_gaps now lists them too (source 'outbox.created').
CREATE TABLE outbox_successions (
  outbox_id                integer PRIMARY KEY,  -- the new outbox (outboxes.id)
  reason                   text NOT NULL,        -- first-start, replaced, quarantined
  first_seq                bigint,
  previous_outbox          text,
  previous_last_seq        bigint,
  previous_last_seq_exact  boolean,
  announced_at             timestamptz NOT NULL DEFAULT now()
);

CREATE OR REPLACE VIEW tail_gaps AS
WITH covered AS (
  SELECT outbox_id, max(to_seq) AS covered_to FROM (
    SELECT outbox_id, to_seq FROM received_ranges UNION ALL SELECT outbox_id, to_seq FROM declared_ranges
  ) c GROUP BY outbox_id
), latest AS (
  SELECT DISTINCT ON (outbox_id) outbox_id, next_seq, pending_readings, ts
  FROM health WHERE outbox_id IS NOT NULL ORDER BY outbox_id, ts DESC
)
SELECT o.gateway, o.outbox, coalesce(covered.covered_to, 0) + 1 AS from_seq, latest.next_seq - 1 AS to_seq, latest.ts AS health_ts,
       'health'::text AS source
FROM latest JOIN outboxes o ON o.id = latest.outbox_id LEFT JOIN covered USING (outbox_id)
WHERE latest.pending_readings = 0 AND latest.next_seq - 1 > coalesce(covered.covered_to, 0)
UNION ALL
SELECT n.gateway, s.previous_outbox, coalesce(covered.covered_to, 0) + 1, s.previous_last_seq, NULL::timestamptz, 'outbox.created'
FROM outbox_successions s
JOIN outboxes n ON n.id = s.outbox_id
LEFT JOIN outboxes p ON p.gateway = n.gateway AND p.outbox = s.previous_outbox
LEFT JOIN covered ON covered.outbox_id = p.id
WHERE s.previous_outbox IS NOT NULL AND s.previous_last_seq > coalesce(covered.covered_to, 0);
