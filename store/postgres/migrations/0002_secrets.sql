-- Secrets every instance must share, created once by whichever instance
-- needs one first: the key that signs development session cookies, so that
-- a browser's session is valid on every instance.
CREATE TABLE pinion_secrets (
	name  text  PRIMARY KEY,
	value bytea NOT NULL
);
