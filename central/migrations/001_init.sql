-- edge-gateway reference ingest: the first schema (docs/ingest.md).
-- Applied once by central/migrate.ts, which records it in schema_migrations.

-- One row per (gateway, outbox): seqs are unique within one outbox (docs/payload.md).
CREATE TABLE outboxes (
  id          serial PRIMARY KEY,
  gateway     text NOT NULL,
  outbox      text NOT NULL,
  first_seen  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (gateway, outbox)
);

-- What a reading is about. Devices are keyed by (gateway, device): device ids, and v2 layout ids,
-- are the same on every gateway that runs the same device files. A changed unit is a new series.
CREATE TABLE series (
  id       serial PRIMARY KEY,
  gateway  text NOT NULL,
  device   text NOT NULL,
  point    text NOT NULL,
  unit     text NOT NULL DEFAULT '',
  UNIQUE (gateway, device, point, unit)
);

-- Every reading exactly once: the key is the gateway's (outbox, seq); a redelivered reading hits
-- the key and is ignored (INSERT ... ON CONFLICT DO NOTHING). v2 poll records are stored expanded,
-- one row per value, with the seq the payload gives it (record seq + index).
-- No foreign keys on purpose: a per-row trigger check costs more than the whole insert.
CREATE TABLE readings (
  outbox_id       integer NOT NULL,   -- outboxes.id
  seq             bigint NOT NULL,
  series_id       integer NOT NULL,   -- series.id
  ts              timestamptz NOT NULL,
  num             double precision,   -- value when a number
  flag            boolean,            -- value when a boolean
  txt             text,               -- value when a string
  quality         smallint NOT NULL,  -- 0 good, 1 bad, 2 uncertain
  is_event        boolean NOT NULL DEFAULT false,
  attrs           jsonb,
  clock_unsynced  boolean NOT NULL DEFAULT false,
  PRIMARY KEY (outbox_id, seq)
);

-- Seqs received, as ranges (one row per batch, merged by compaction): with declared_ranges, what
-- the gaps view subtracts from. Written in the same statement as the batch's readings.
CREATE TABLE received_ranges (
  outbox_id    integer NOT NULL,
  from_seq     bigint NOT NULL,
  to_seq       bigint NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now(),
  CHECK (from_seq <= to_seq)
);
CREATE INDEX received_ranges_outbox ON received_ranges (outbox_id, from_seq);

-- Seqs the gateway declared it will never deliver: retention drops (outbox.dropped) and seqs
-- skipped after an unclean stop (outbox.skipped), from events and from health.
CREATE TABLE declared_ranges (
  outbox_id  integer NOT NULL,
  from_seq   bigint NOT NULL,
  to_seq     bigint NOT NULL,
  reason     text NOT NULL,
  first_seen timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (outbox_id, from_seq, to_seq, reason),
  CHECK (from_seq <= to_seq)
);

-- Gateway status (<prefix>/<gateway>/status): every message, and the latest per gateway.
CREATE TABLE status_log (
  gateway      text NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now(),
  state        text NOT NULL,
  reason       text,
  retained     boolean NOT NULL,
  payload      jsonb
);
CREATE INDEX status_log_gateway ON status_log (gateway, received_at);
CREATE TABLE gateway_status (
  gateway      text PRIMARY KEY,
  state        text NOT NULL,
  reason       text,
  since        timestamptz NOT NULL,
  payload      jsonb
);

-- Health messages (<prefix>/<gateway>/health), once each: (gateway, ts) is unique per message.
CREATE TABLE health (
  gateway           text NOT NULL,
  ts                timestamptz NOT NULL,
  outbox_id         integer,
  next_seq          bigint,
  pending_readings  bigint,
  received_at       timestamptz NOT NULL DEFAULT now(),
  payload           jsonb NOT NULL,
  PRIMARY KEY (gateway, ts)
);

-- Messages the ingest acknowledged without storing, and why (they would otherwise wedge the session).
CREATE TABLE rejected_messages (
  received_at  timestamptz NOT NULL DEFAULT now(),
  topic        text NOT NULL,
  reason       text NOT NULL
);

-- Each worker's own rate and lag, every stats interval.
CREATE TABLE ingest_stats (
  worker            text NOT NULL,
  ts                timestamptz NOT NULL DEFAULT now(),
  batches           bigint NOT NULL,
  readings          bigint NOT NULL,
  duplicates        bigint NOT NULL,
  readings_per_s    double precision NOT NULL,
  lag_ms_max        bigint,
  PRIMARY KEY (worker, ts)
);

-- Seq ranges missing between the lowest and the highest seq received per outbox, not declared.
CREATE VIEW gaps AS
WITH covered AS (
  SELECT outbox_id, from_seq, to_seq FROM received_ranges
  UNION ALL
  SELECT outbox_id, from_seq, to_seq FROM declared_ranges
), ordered AS (
  SELECT outbox_id, from_seq,
         max(to_seq) OVER (PARTITION BY outbox_id ORDER BY from_seq, to_seq
                           ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS covered_to
  FROM covered
)
SELECT o.gateway, o.outbox, ordered.covered_to + 1 AS from_seq, ordered.from_seq - 1 AS to_seq
FROM ordered JOIN outboxes o ON o.id = ordered.outbox_id
WHERE ordered.from_seq > ordered.covered_to + 1;

-- Loss at the tail: the latest health of an outbox says nothing is pending (every seq below
-- next_seq was acknowledged by the broker), yet seqs below next_seq were neither received nor
-- declared. Meaningful once the ingest has drained its own queue (health and batches travel on
-- different topics, so a health message can overtake the batches it counts).
CREATE VIEW tail_gaps AS
WITH covered AS (
  SELECT outbox_id, max(to_seq) AS covered_to FROM (
    SELECT outbox_id, to_seq FROM received_ranges UNION ALL SELECT outbox_id, to_seq FROM declared_ranges
  ) c GROUP BY outbox_id
), latest AS (
  SELECT DISTINCT ON (outbox_id) outbox_id, next_seq, pending_readings, ts
  FROM health WHERE outbox_id IS NOT NULL ORDER BY outbox_id, ts DESC
)
SELECT o.gateway, o.outbox, coalesce(covered.covered_to, 0) + 1 AS from_seq, latest.next_seq - 1 AS to_seq, latest.ts AS health_ts
FROM latest JOIN outboxes o ON o.id = latest.outbox_id LEFT JOIN covered USING (outbox_id)
WHERE latest.pending_readings = 0 AND latest.next_seq - 1 > coalesce(covered.covered_to, 0);
