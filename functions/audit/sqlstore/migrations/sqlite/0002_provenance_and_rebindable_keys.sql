-- Records say which TCSS endpoint and credential source an attempt used, how its caller was
-- admitted, and which other record it relates to (hash encoding version 2 covers them; older
-- rows keep the defaults and verify in version 1).
ALTER TABLE audit_log ADD COLUMN endpoint TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN credential TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN access TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN related_id BIGINT NOT NULL DEFAULT 0;
-- An idempotency key is bound only while its newest attempt started or may have started a scan;
-- a refused attempt frees it, so a key may now hold several pending records. The store checks the
-- rule under its append lock; this index finds the newest pending record of a key. The query
-- repeats the index's conditions, so that both planners use it also for a generic plan.
DROP INDEX IF EXISTS audit_log_pending_key;
CREATE INDEX audit_log_key ON audit_log (idempotency_key, id)
	WHERE outcome = 'pending' AND idempotency_key <> '';
-- The outcome of a pending record, newest first, without a sort.
DROP INDEX IF EXISTS audit_log_pending_id;
CREATE INDEX audit_log_outcome_of ON audit_log (pending_id, id) WHERE pending_id <> 0;
