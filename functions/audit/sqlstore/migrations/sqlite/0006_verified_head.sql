-- The head of the chain as the audit page's background check last verified it (audit.Watcher),
-- so that a new process resumes from there instead of walking the whole log. One row, moved
-- forward only. A shortcut for the page, not evidence: `vulscan audit verify` never reads it.
CREATE TABLE audit_verified_head (
	id            INTEGER PRIMARY KEY CHECK (id = 1),
	records       BIGINT NOT NULL,
	emulated      BIGINT NOT NULL,
	head_hash     TEXT NOT NULL,
	checked_at_ns BIGINT NOT NULL
);
