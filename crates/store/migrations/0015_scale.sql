-- Issue 11 (scale): indexes the queries at millions of certificates need.
-- A batch's certificates: its progress count, publication, the batch page and abandoning.
CREATE INDEX certificates_batch ON certificates (batch_id);
-- A candidate's certificates, first issue or reissue (the partial unique index covers first
-- issues only, so the issue preview scanned the whole table once per candidate).
CREATE INDEX certificates_candidate ON certificates (candidate_id);
