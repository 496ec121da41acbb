-- A time bound becomes an ID bound by a binary search over the IDs (firstIDAt, store.go): times
-- never go backwards along the chain (Append keeps them in order and Verify checks it), so the
-- table's own order by ID is also its order by time, and audit_log_time, which every record wrote
-- into (a page of the write-ahead log in every commit), served nothing the IDs cannot (issue 13).
DROP INDEX IF EXISTS audit_log_time;
