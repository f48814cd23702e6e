-- Replay requests the ingest sent for gaps (docs/ingest.md, "Asking for what the broker lost"),
-- and the gateway's answer: its `command` outcome event with action replay. Ranges the gateway no
-- longer holds go to declared_ranges with reason 'replay:unavailable' (recorded as lost), so the
-- gaps view stops listing them; replayed readings fill received_ranges like any batch.
CREATE TABLE replay_requests (
  command_id    text PRIMARY KEY,
  outbox_id     integer NOT NULL,   -- outboxes.id
  from_seq      bigint NOT NULL,
  to_seq        bigint NOT NULL,
  requested_at  timestamptz NOT NULL DEFAULT now(),
  outcome       text,               -- executed, failed, rejected, expired, ... (NULL: no final answer yet)
  replayed      bigint,
  unavailable   text,               -- "a-b,c-d" as the gateway reported it
  reason        text,
  answered_at   timestamptz,
  CHECK (from_seq <= to_seq)
);
CREATE INDEX replay_requests_outbox ON replay_requests (outbox_id, from_seq);
