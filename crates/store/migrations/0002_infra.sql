-- Shared infrastructure: uploaded documents, background jobs, in-platform notifications and
-- the outbox of outgoing messages (SMS, email).

-- 材料: every upload is a new row. A re-upload of the same owner + kind + file name is a new
-- version; nothing is overwritten. The bytes live in the blob store under blob_key (content
-- addressed by sha256). institution_id and district_code decide who may read it (属地).
CREATE TABLE documents (
    id {pk},
    owner_type TEXT NOT NULL,
    owner_id BIGINT NOT NULL,
    institution_id BIGINT REFERENCES institutions(id),
    district_code TEXT,
    kind TEXT NOT NULL,
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    blob_key TEXT NOT NULL,
    version BIGINT NOT NULL,
    uploaded_by BIGINT,
    uploaded_at TEXT NOT NULL,
    closed_at TEXT,
    retention_until TEXT,
    UNIQUE (owner_type, owner_id, kind, filename, version)
);
CREATE INDEX documents_owner ON documents (owner_type, owner_id);
CREATE INDEX documents_institution ON documents (institution_id);
CREATE INDEX documents_sha256 ON documents (sha256);

-- Background jobs (large imports): progress lives in the database, so any app server can
-- answer a poll. updated_at is the heartbeat of a running job.
CREATE TABLE jobs (
    id {pk},
    kind TEXT NOT NULL,
    owner_user_id BIGINT NOT NULL REFERENCES users(id),
    institution_id BIGINT REFERENCES institutions(id),
    status TEXT NOT NULL DEFAULT 'queued',
    done BIGINT NOT NULL DEFAULT 0,
    total BIGINT NOT NULL DEFAULT 0,
    message TEXT NOT NULL DEFAULT '',
    result_json TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX jobs_owner ON jobs (owner_user_id, id);

-- In-platform messages, to one user or to every account of an institution. read_at is shared
-- by the recipients of an institution message.
CREATE TABLE notifications (
    id {pk},
    recipient_user_id BIGINT REFERENCES users(id),
    institution_id BIGINT REFERENCES institutions(id),
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    link TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    read_at TEXT,
    read_by BIGINT
);
CREATE INDEX notifications_user ON notifications (recipient_user_id, read_at);
CREATE INDEX notifications_institution ON notifications (institution_id, read_at);

-- Outgoing messages, written in the transaction of the decision they announce; a sender
-- adapter delivers them later and records the outcome.
CREATE TABLE outbox (
    id {pk},
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at TEXT NOT NULL,
    sent_at TEXT
);
CREATE INDEX outbox_status ON outbox (status, id)
