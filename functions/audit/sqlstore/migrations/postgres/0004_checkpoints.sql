-- Signed checkpoints of the chain's head (audit.Checkpoint), append-only like the records; Open
-- puts their guard triggers in place with the others.
CREATE TABLE audit_checkpoints (
	seq       BIGINT PRIMARY KEY,
	records   BIGINT NOT NULL,
	head_id   BIGINT NOT NULL,
	head_hash TEXT NOT NULL,
	time_ns   BIGINT NOT NULL,
	key_id    TEXT NOT NULL,
	signature TEXT NOT NULL
);
