-- Bulk ingest (DESIGN.md, "Scale").

-- The event log is the idempotency record: every applied event has its row there, with a unique
-- event id, written in the same transaction as the event's rows. processed_event held the same ids
-- a second time (one more row and index entry per event); it stays readable as a view.
drop table processed_event;
create view processed_event as
    select event_id, type, source, pool_id, cataloged_at as processed_at from event_log;

-- The API's two chunk queries read in (created_at, chunk_id) order: an index in that order under
-- the filter serves them without a sort (GET /api/pools/{id}: all chunks of one pool;
-- GET /api/chunks?state=faulted: the first 1000 faulted chunks).
create index chunk_pool_created_idx on chunk (pool_id, created_at, chunk_id);
drop index chunk_pool_idx;
create index chunk_state_created_idx on chunk (state, created_at, chunk_id);
drop index chunk_state_idx;
