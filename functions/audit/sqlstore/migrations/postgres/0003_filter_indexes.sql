-- Every statement on a hot path uses an index at any size (issue 8). The audit filters and their
-- keyset paging read newest first by id within one value of the filtered column; a time range is
-- turned into an id range through audit_log_time (times never go backwards along the chain); a
-- task ID finds its outcome record through one of the partial task indexes.
-- The newest pending record of an idempotency key: two equalities, so that the planner prefers it
-- to audit_log_outcome (outcome=?), which would read every pending record.
DROP INDEX IF EXISTS audit_log_key;
CREATE INDEX audit_log_key ON audit_log (idempotency_key, outcome, id) WHERE idempotency_key <> '';
CREATE INDEX audit_log_outcome ON audit_log (outcome, id);
CREATE INDEX audit_log_trigger ON audit_log (trigger_type, id);
CREATE INDEX audit_log_actor ON audit_log (actor, id);
DROP INDEX IF EXISTS audit_log_time;
CREATE INDEX audit_log_time ON audit_log (time_ns, id);
CREATE INDEX audit_log_local_task ON audit_log (local_task_id, id) WHERE local_task_id <> 0;
CREATE INDEX audit_log_registry_task ON audit_log (registry_task_id, id) WHERE registry_task_id <> 0;
-- A generic plan cannot see which outcome or trigger is asked for, and with five values each the
-- planner expects a fifth of the table to match and walks the primary key, filtering: at a million
-- records, looking for a rare outcome reads them all. Telling it these columns are selective makes
-- it read (outcome, id) and (trigger_type, id), which give the newest matching records directly,
-- whatever the value. Takes effect at the next ANALYZE (autovacuum runs it).
ALTER TABLE audit_log ALTER COLUMN outcome SET (n_distinct = 10000);
ALTER TABLE audit_log ALTER COLUMN trigger_type SET (n_distinct = 10000);
