-- Aborts the receiver's one-statement batch write (db/queries/ingest.ts) when two in-flight batches
-- raced on one delivery_id with different content. SQLSTATE 40001 (serialization_failure) tells the
-- caller the write may simply be tried again; nothing of the statement is kept.
CREATE OR REPLACE FUNCTION ingest_abort(reason text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ingest batch aborted: %', reason USING ERRCODE = '40001';
END
$$;
