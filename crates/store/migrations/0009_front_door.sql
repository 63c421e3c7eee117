-- The front door (issue 8 §7–8).
-- Keys come from configuration; the database keeps only their fingerprints (an HMAC of a fixed
-- label under the key), so a server started with another ID pepper, or a key id reused for
-- another secret, stops with a clear error instead of silently mismatching.
-- purpose: 'id_pepper' or 'letter:<key id>'.
CREATE TABLE key_fingerprints (
    purpose TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);

-- The letter-signing key no longer lives in the database it protects. Signatures made with it
-- were signed again with the configured key before this migration (Store::migrate).
DROP TABLE platform_keys;

-- Old login failures are pruned by time.
CREATE INDEX login_failures_at ON login_failures (at)
