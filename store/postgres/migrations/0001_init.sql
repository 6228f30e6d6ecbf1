-- Pinion's schema, version 1. Names are prefixed so that Pinion can share
-- a schema with an application's own tables.
--
-- Revisions are bigint: a revision is a microsecond timestamp (about 2^51
-- today), so every revision the store issues fits in a signed 64-bit
-- integer.

-- The store's identity and its head: one row. Every write transaction
-- locks this row to allocate its revisions and keeps the lock until it
-- commits, which is what makes commit order equal revision order across
-- instances (see the package documentation).
CREATE TABLE pinion_meta (
	id      integer PRIMARY KEY CHECK (id = 1),
	epoch   text    NOT NULL,
	initial bigint  NOT NULL CHECK (initial > 0),
	head    bigint  NOT NULL CHECK (head >= initial)
);

-- The current state of every written document. Data is kept as the exact
-- bytes the application wrote (bytea, not jsonb, which would reformat it).
CREATE TABLE pinion_documents (
	topic        text   NOT NULL,
	principal    text   NOT NULL,
	revision     bigint NOT NULL CHECK (revision > 0),
	data         bytea  NOT NULL,
	source_id    text   NOT NULL,
	committed_us bigint NOT NULL,
	PRIMARY KEY (topic, principal)
);

-- Revisions are unique store-wide; the index serves the change feed.
CREATE UNIQUE INDEX pinion_documents_revision ON pinion_documents (revision);
