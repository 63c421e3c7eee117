-- 二、评价管理: electronic filing, evaluation plans, supervision, candidates and results.

-- 电子备案 (二(二)): one per institution. The uploaded copy is a document (documents table).
CREATE TABLE efilings (
    id {pk},
    institution_id BIGINT NOT NULL UNIQUE REFERENCES institutions(id),
    district_code TEXT NOT NULL,
    status TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    file_name TEXT NOT NULL DEFAULT '',
    file_type TEXT NOT NULL DEFAULT '',
    file_size BIGINT NOT NULL DEFAULT 0,
    file_sha256 TEXT NOT NULL DEFAULT '',
    document_id BIGINT REFERENCES documents(id),
    submitted_by BIGINT,
    submitted_at TEXT,
    reviewed_by BIGINT,
    reviewed_at TEXT,
    review_reason TEXT NOT NULL DEFAULT '',
    version BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    closed_at TEXT,
    retention_until TEXT
);

-- 评价工作计划. status_since: when the current status began (work-queue waiting time).
CREATE TABLE plans (
    id {pk},
    plan_no TEXT NOT NULL UNIQUE,
    institution_id BIGINT NOT NULL REFERENCES institutions(id),
    district_code TEXT NOT NULL,
    occupation_id BIGINT NOT NULL REFERENCES occupations(id),
    levels TEXT NOT NULL,
    forms TEXT NOT NULL,
    start_date TEXT NOT NULL,
    end_date TEXT NOT NULL,
    venue TEXT NOT NULL,
    expected_candidates BIGINT NOT NULL,
    examiners TEXT NOT NULL,
    internal_supervisor TEXT NOT NULL,
    status TEXT NOT NULL,
    status_since TEXT NOT NULL,
    revision BIGINT NOT NULL DEFAULT 1,
    submitted_at TEXT,
    paper_received_by TEXT,
    paper_received_at TEXT,
    district_decided_by TEXT,
    district_decided_at TEXT,
    entered_at TEXT,
    city_confirmed_by TEXT,
    city_confirmed_at TEXT,
    last_reason TEXT NOT NULL DEFAULT '',
    results_status TEXT NOT NULL DEFAULT 'none',
    results_published_on TEXT,
    results_publicity_until TEXT,
    results_submitted_at TEXT,
    version BIGINT NOT NULL DEFAULT 1,
    created_by BIGINT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    closed_at TEXT,
    retention_until TEXT
);
CREATE INDEX plans_institution ON plans (institution_id);
CREATE INDEX plans_district ON plans (district_code, status);

-- Every transition of a plan, with the revision it applied to and a snapshot of the content.
CREATE TABLE plan_events (
    id {pk},
    plan_id BIGINT NOT NULL REFERENCES plans(id),
    revision BIGINT NOT NULL,
    action TEXT NOT NULL,
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    actor_id BIGINT,
    actor TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    snapshot TEXT NOT NULL DEFAULT '',
    at TEXT NOT NULL
);
CREATE INDEX plan_events_plan ON plan_events (plan_id, id);

-- 回避: relations between a supervisor and an institution, recorded by the city.
CREATE TABLE supervisor_relations (
    id {pk},
    supervisor_id BIGINT NOT NULL REFERENCES users(id),
    institution_id BIGINT NOT NULL REFERENCES institutions(id),
    kind TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    recorded_by BIGINT,
    recorded_at TEXT NOT NULL,
    UNIQUE (supervisor_id, institution_id, kind)
);

-- One city and one district supervisor per plan (二(三)).
CREATE TABLE supervision_assignments (
    id {pk},
    plan_id BIGINT NOT NULL REFERENCES plans(id),
    side TEXT NOT NULL,
    supervisor_id BIGINT NOT NULL REFERENCES users(id),
    assigned_by BIGINT,
    assigned_at TEXT NOT NULL,
    UNIQUE (plan_id, side)
);
CREATE INDEX supervision_assignments_supervisor ON supervision_assignments (supervisor_id);

-- 督导责任书: the canonical text and its SHA-256. A letter is superseded (never edited) when
-- the plan or the supervisors change before anyone signed.
CREATE TABLE supervision_letters (
    id {pk},
    plan_id BIGINT NOT NULL REFERENCES plans(id),
    revision BIGINT NOT NULL,
    body TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    created_at TEXT NOT NULL,
    superseded_at TEXT
);
CREATE INDEX supervision_letters_plan ON supervision_letters (plan_id);

CREATE TABLE letter_signatures (
    id {pk},
    letter_id BIGINT NOT NULL REFERENCES supervision_letters(id),
    plan_id BIGINT NOT NULL REFERENCES plans(id),
    party TEXT NOT NULL,
    signer_id BIGINT NOT NULL REFERENCES users(id),
    signer_name TEXT NOT NULL,
    signed_at TEXT NOT NULL,
    doc_sha256 TEXT NOT NULL,
    algorithm TEXT NOT NULL,
    key_id TEXT NOT NULL,
    signature TEXT NOT NULL,
    UNIQUE (letter_id, party)
);

CREATE TABLE supervision_reports (
    id {pk},
    plan_id BIGINT NOT NULL REFERENCES plans(id),
    supervisor_id BIGINT NOT NULL REFERENCES users(id),
    side TEXT NOT NULL,
    body TEXT NOT NULL,
    attachment_name TEXT NOT NULL DEFAULT '',
    attachment_type TEXT NOT NULL DEFAULT '',
    attachment_sha256 TEXT NOT NULL DEFAULT '',
    document_id BIGINT REFERENCES documents(id),
    filed_at TEXT NOT NULL,
    UNIQUE (plan_id, supervisor_id)
);

-- 考生. id_number is personal data: lists show id_masked, full reads are audited, duplicate
-- checks use id_hash (SHA-256 under a platform namespace, the same as certificates).
CREATE TABLE candidates (
    id {pk},
    plan_id BIGINT NOT NULL REFERENCES plans(id),
    institution_id BIGINT NOT NULL REFERENCES institutions(id),
    district_code TEXT NOT NULL,
    name TEXT NOT NULL,
    id_type TEXT NOT NULL,
    id_number TEXT NOT NULL,
    id_hash TEXT NOT NULL,
    id_masked TEXT NOT NULL,
    gender TEXT NOT NULL,
    education TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    level BIGINT NOT NULL,
    photo_document_id BIGINT REFERENCES documents(id),
    dup_flag TEXT NOT NULL DEFAULT '',
    theory_score BIGINT,
    skill_score BIGINT,
    review_score BIGINT,
    passed BIGINT,
    scored_at TEXT,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    closed_at TEXT,
    retention_until TEXT,
    UNIQUE (plan_id, id_hash)
);
CREATE INDEX candidates_hash ON candidates (id_hash);

-- Platform keys (signing). Kept in the database until key management (HSM, SM2) lands.
CREATE TABLE platform_keys (
    key_id TEXT PRIMARY KEY,
    purpose TEXT NOT NULL,
    secret_hex TEXT NOT NULL,
    created_at TEXT NOT NULL
)
