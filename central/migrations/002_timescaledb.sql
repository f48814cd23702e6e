-- With TimescaleDB installed on the server, readings become a hypertable partitioned by seq
-- (chunks of 10M seqs): seq is in the primary key, which TimescaleDB requires of the partitioning
-- column, and it grows with time per outbox. Without the extension this does nothing and readings
-- stay a plain table (also when the package is installed but not in
-- shared_preload_libraries, where CREATE EXTENSION would fail). Only done while the table is empty (a fresh database).
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb')
     AND current_setting('shared_preload_libraries') LIKE '%timescaledb%'
     AND NOT EXISTS (SELECT 1 FROM readings LIMIT 1) THEN
    CREATE EXTENSION IF NOT EXISTS timescaledb;
    PERFORM create_hypertable('readings', 'seq', chunk_time_interval => 10000000);
  END IF;
END
$$;
