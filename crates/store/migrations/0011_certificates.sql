-- Issue 9: certificates (职业技能等级证书). "评价完成后，市职业技能鉴定中心负责证书数据的生成和公示查询的上网环节" (二(三)).
-- The table of 0001 was never written to; it is recreated with the full record.

-- 评价站点代码: the 6-digit site code the province assigned, entered by the city (positions 8–13 of the number).
ALTER TABLE institutions ADD COLUMN site_code TEXT;
CREATE UNIQUE INDEX institutions_site_code ON institutions (site_code) WHERE site_code IS NOT NULL;

DROP TABLE certificates;

-- One issue run of a plan's passed candidates. Its items are fixed when it starts, so a rerun after a
-- crash processes the same candidates; its certificates stay unpublished until the batch is done
-- (all or nothing). One running batch per plan.
CREATE TABLE cert_batches (
    id {pk},
    plan_id BIGINT NOT NULL REFERENCES plans(id),
    institution_id BIGINT NOT NULL REFERENCES institutions(id),
    status TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed')),
    reissue BIGINT NOT NULL DEFAULT 0,
    issued_on TEXT NOT NULL,
    total BIGINT NOT NULL DEFAULT 0,
    done BIGINT NOT NULL DEFAULT 0,
    job_id BIGINT REFERENCES jobs(id),
    message TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE UNIQUE INDEX cert_batches_one_running ON cert_batches (plan_id) WHERE status = 'running';
CREATE INDEX cert_batches_plan ON cert_batches (plan_id);

CREATE TABLE cert_batch_items (
    id {pk},
    batch_id BIGINT NOT NULL REFERENCES cert_batches(id),
    candidate_id BIGINT NOT NULL REFERENCES candidates(id),
    -- the certificate a reissue (补发) replaces
    replaces_id BIGINT,
    UNIQUE (batch_id, candidate_id)
);

-- Serial counters (positions 17–22): one row per institution and year, and per level when the
-- policy restarts serials per level (level 0 otherwise). Incremented by an UPDATE … RETURNING in the
-- transaction that inserts the certificates: a row lock on PostgreSQL, the writer lock on SQLite.
CREATE TABLE cert_counters (
    institution_id BIGINT NOT NULL REFERENCES institutions(id),
    year BIGINT NOT NULL,
    level BIGINT NOT NULL,
    last_serial BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (institution_id, year, level)
);

-- Status-list indexes (W3C Bitstring Status List): one platform-wide counter.
CREATE TABLE cert_status_counter (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    last_index BIGINT NOT NULL
);
INSERT INTO cert_status_counter (id, last_index) VALUES (1, -1);

CREATE TABLE certificates (
    id {pk},
    cert_no TEXT NOT NULL UNIQUE,
    candidate_id BIGINT NOT NULL REFERENCES candidates(id),
    plan_id BIGINT NOT NULL REFERENCES plans(id),
    batch_id BIGINT REFERENCES cert_batches(id),
    institution_id BIGINT NOT NULL REFERENCES institutions(id),
    institution_name TEXT NOT NULL,
    district_code TEXT NOT NULL,
    site_code TEXT NOT NULL,
    occupation_code TEXT NOT NULL,
    occupation_name TEXT NOT NULL,
    work_type TEXT NOT NULL DEFAULT '--',
    level BIGINT NOT NULL CHECK (level BETWEEN 1 AND 5),
    holder_name TEXT NOT NULL,
    id_type TEXT NOT NULL,
    id_hash TEXT NOT NULL,
    id_masked TEXT NOT NULL,
    photo_document_id BIGINT REFERENCES documents(id),
    issued_on TEXT NOT NULL,
    -- 有效 / 已撤销 / 已更正
    state TEXT NOT NULL DEFAULT 'valid' CHECK (state IN ('valid', 'revoked', 'corrected')),
    -- 0 while its batch runs: unpublished certificates are invisible to every query but the batch's.
    published BIGINT NOT NULL DEFAULT 0,
    revoke_reason TEXT,
    revoked_at TEXT,
    superseded_by BIGINT REFERENCES certificates(id),
    reissue_of BIGINT UNIQUE REFERENCES certificates(id),
    status_index BIGINT NOT NULL UNIQUE,
    signed_at BIGINT NOT NULL,
    key_id TEXT NOT NULL,
    -- the COSE_Sign1 bytes, base64 (standard alphabet)
    cose TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    closed_at TEXT,
    retention_until TEXT
);
-- A candidate's first certificate exists once: a rerun of a batch cannot duplicate it.
CREATE UNIQUE INDEX certificates_first_issue ON certificates (candidate_id) WHERE reissue_of IS NULL;
CREATE INDEX certificates_holder ON certificates (id_hash, occupation_code, level);
CREATE INDEX certificates_plan ON certificates (plan_id);
CREATE INDEX certificates_institution ON certificates (institution_id);

-- Revocation (撤销) and correction (更正) need both city keys: one city role proposes, the other confirms.
CREATE TABLE cert_changes (
    id {pk},
    certificate_id BIGINT NOT NULL REFERENCES certificates(id),
    kind TEXT NOT NULL CHECK (kind IN ('revoke', 'correct')),
    reason TEXT NOT NULL,
    -- corrected fields (JSON object: holder_name, work_type)
    corrections TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL DEFAULT 'proposed' CHECK (status IN ('proposed', 'applied', 'withdrawn')),
    proposed_by TEXT NOT NULL,
    proposed_role TEXT NOT NULL,
    proposed_at TEXT NOT NULL,
    confirmed_by TEXT,
    confirmed_role TEXT,
    confirmed_at TEXT,
    new_certificate_id BIGINT REFERENCES certificates(id),
    version BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX cert_changes_open ON cert_changes (certificate_id) WHERE status = 'proposed';

-- Public queries per client address (sliding window), in the database so the limit holds across app servers.
CREATE TABLE public_query_hits (
    id {pk},
    client_addr TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX public_query_hits_client ON public_query_hits (client_addr, at)
