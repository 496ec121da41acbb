-- Every statement on a hot path uses an index at any size (issue 8).
--
-- First the table is rebuilt with id as INTEGER PRIMARY KEY, SQLite's rowid: a lookup by id, the
-- chain head and every walk in id order then read the table itself instead of going through a
-- separate index on id for each row. Rows are copied as they are; the append-only triggers go
-- with the old table and Open puts them back on the new one. The new column order adds nothing
-- to the hash: records are hashed field by field, not as rows.
CREATE TABLE audit_log_v3 (
	id                  INTEGER PRIMARY KEY,
	time_ns             BIGINT NOT NULL,
	trigger_type        TEXT NOT NULL,
	actor               TEXT NOT NULL DEFAULT '',
	source_ip           TEXT NOT NULL DEFAULT '',
	user_agent          TEXT NOT NULL DEFAULT '',
	action              TEXT NOT NULL DEFAULT '',
	params              TEXT NOT NULL DEFAULT 'null',
	idempotency_key     TEXT NOT NULL DEFAULT '',
	outcome             TEXT NOT NULL,
	pending_id          BIGINT NOT NULL DEFAULT 0,
	local_task_id       BIGINT NOT NULL DEFAULT 0,
	registry_task_id    BIGINT NOT NULL DEFAULT 0,
	tcss_request_id     TEXT NOT NULL DEFAULT '',
	error_code          TEXT NOT NULL DEFAULT '',
	error_message       TEXT NOT NULL DEFAULT '',
	function_request_id TEXT NOT NULL DEFAULT '',
	endpoint            TEXT NOT NULL DEFAULT '',
	credential          TEXT NOT NULL DEFAULT '',
	access              TEXT NOT NULL DEFAULT '',
	related_id          BIGINT NOT NULL DEFAULT 0,
	prev_hash           TEXT NOT NULL,
	hash                TEXT NOT NULL
);
INSERT INTO audit_log_v3 (id, time_ns, trigger_type, actor, source_ip, user_agent, action, params,
	idempotency_key, outcome, pending_id, local_task_id, registry_task_id, tcss_request_id, error_code,
	error_message, function_request_id, endpoint, credential, access, related_id, prev_hash, hash)
SELECT id, time_ns, trigger_type, actor, source_ip, user_agent, action, params,
	idempotency_key, outcome, pending_id, local_task_id, registry_task_id, tcss_request_id, error_code,
	error_message, function_request_id, endpoint, credential, access, related_id, prev_hash, hash
FROM audit_log ORDER BY id;
DROP TABLE audit_log;
ALTER TABLE audit_log_v3 RENAME TO audit_log;
-- The newest pending record of an idempotency key. The index holds outcome too, so that two
-- equalities make it the planner's obvious choice over audit_log_outcome (outcome=?), which would
-- read every pending record.
CREATE INDEX audit_log_key ON audit_log (idempotency_key, outcome, id) WHERE idempotency_key <> '';
-- As in migration 0002, again on the new table.
CREATE INDEX audit_log_outcome_of ON audit_log (pending_id, id) WHERE pending_id <> 0;
-- The audit filters and their keyset paging read newest first by id within one value of the
-- filtered column; a time range is turned into an id range through audit_log_time (times never
-- go backwards along the chain); a task ID finds its outcome record through a partial task index.
CREATE INDEX audit_log_outcome ON audit_log (outcome, id);
CREATE INDEX audit_log_trigger ON audit_log (trigger_type, id);
CREATE INDEX audit_log_actor ON audit_log (actor, id);
CREATE INDEX audit_log_time ON audit_log (time_ns, id);
CREATE INDEX audit_log_local_task ON audit_log (local_task_id, id) WHERE local_task_id <> 0;
CREATE INDEX audit_log_registry_task ON audit_log (registry_task_id, id) WHERE registry_task_id <> 0;
