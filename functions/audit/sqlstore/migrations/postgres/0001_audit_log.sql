-- The audit log as vulscan created it before numbered migrations (main at 22761e8). Every
-- statement is idempotent, so that a database written then is taken over as version 1.
-- Time is kept as Unix nanoseconds, which both databases store exactly and compare as numbers;
-- params is kept as text, byte for byte as hashed.
CREATE TABLE IF NOT EXISTS audit_log (
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
);
CREATE UNIQUE INDEX IF NOT EXISTS audit_log_pending_key ON audit_log (idempotency_key)
	WHERE outcome = 'pending' AND idempotency_key <> '';
CREATE INDEX IF NOT EXISTS audit_log_pending_id ON audit_log (pending_id) WHERE pending_id <> 0;
CREATE INDEX IF NOT EXISTS audit_log_time ON audit_log (time_ns);
-- The append-only triggers are not here: Open checks them on every start and puts back any that
-- someone dropped (see dialect.guards).
