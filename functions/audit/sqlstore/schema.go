package sqlstore

// schema creates the table and its indexes; every statement is idempotent, so it runs on every
// open. Time is kept as Unix nanoseconds, which both databases store exactly and compare as
// numbers; Params is kept as text, byte for byte as hashed.
var schema = []string{
	`CREATE TABLE IF NOT EXISTS audit_log (
		id                  BIGINT PRIMARY KEY,
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
		prev_hash           TEXT NOT NULL,
		hash                TEXT NOT NULL
	)`,
	// One pending record per idempotency key, for ever: the key's first attempt answers every
	// replay, also after a restart.
	`CREATE UNIQUE INDEX IF NOT EXISTS audit_log_pending_key ON audit_log (idempotency_key)
		WHERE outcome = 'pending' AND idempotency_key <> ''`,
	`CREATE INDEX IF NOT EXISTS audit_log_pending_id ON audit_log (pending_id) WHERE pending_id <> 0`,
	`CREATE INDEX IF NOT EXISTS audit_log_time ON audit_log (time_ns)`,
}

// columns is the order every query reads and writes a record in.
const columns = `id, time_ns, trigger_type, actor, source_ip, user_agent, action, params, idempotency_key,
	outcome, pending_id, local_task_id, registry_task_id, tcss_request_id, error_code, error_message,
	function_request_id, prev_hash, hash`
