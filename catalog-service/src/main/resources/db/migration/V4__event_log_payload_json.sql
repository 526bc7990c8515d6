-- Ingest at fleet size (DESIGN.md, "Scale").

-- The payload is only ever read back whole, as text (the API and the live stream write it into
-- their answers as it is), never queried inside. jsonb parsed every payload into its binary form
-- on the way in, the largest part of PostgreSQL's work per logged event after the index entries;
-- json only checks that the text is JSON and keeps it as it came.
alter table event_log alter column payload type json using payload::json;
