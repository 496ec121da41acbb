-- The next free TCSS call slot per action, shared by every process on this store, so that they
-- together keep TCSS's 20 calls per second (tcss.Pacer.Share; Store.BookSlot).
CREATE TABLE tcss_pace (
	action  TEXT PRIMARY KEY,
	next_ns BIGINT NOT NULL
);
