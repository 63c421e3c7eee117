-- Issue 10 §1: retention and disposal (二(三) "纸质版材料保存三年、电子版材料保存五年").
-- Records that close carry their closing date (办结日期, China time); a sweep registers every
-- closed record in the register below with the due date its class and the policy give; paper
-- records are registered by hand. Disposal needs two keys and a legal hold blocks it.

-- 办结日期: the day (YYYY-MM-DD, China time) a record closed; the period of 二(三) runs from it.
-- Rows closed before this migration take the UTC date of closed_at.
ALTER TABLE filing_applications ADD COLUMN closed_on TEXT;
UPDATE filing_applications SET closed_on = SUBSTR(closed_at, 1, 10) WHERE closed_at IS NOT NULL;
-- A plan closes when its results are submitted (or when it is rejected or cancelled).
ALTER TABLE plans ADD COLUMN closed_on TEXT;
UPDATE plans SET closed_at = results_submitted_at WHERE closed_at IS NULL AND results_submitted_at IS NOT NULL;
UPDATE plans SET closed_on = SUBSTR(closed_at, 1, 10) WHERE closed_at IS NOT NULL;

-- 纸质档案登记: what (title, kind), where kept (location), by whom (custodian), closing date.
-- district_code NULL: kept by the city.
CREATE TABLE paper_records (
    id {pk},
    district_code TEXT REFERENCES divisions(code),
    kind TEXT NOT NULL CHECK (kind IN ('filing', 'plan', 'process', 'other')),
    title TEXT NOT NULL CHECK (title <> ''),
    location TEXT NOT NULL CHECK (location <> ''),
    custodian TEXT NOT NULL CHECK (custodian <> ''),
    closed_on TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    registered_by TEXT NOT NULL,
    registered_at TEXT NOT NULL
);
CREATE INDEX paper_records_district ON paper_records (district_code);

-- 档案保管台账: one row per kept record (class + subject), with its keeper, closing date and the
-- due date fixed when it was registered, with the clause it rests on. Certificates are permanent
-- and are not registered. A disposed record keeps its row: with its disposal it is the tombstone.
CREATE TABLE retention_records (
    id {pk},
    class TEXT NOT NULL CHECK (class IN ('filing', 'plan', 'candidates', 'document', 'paper')),
    subject_type TEXT NOT NULL,
    subject_id BIGINT NOT NULL,
    title TEXT NOT NULL,
    district_code TEXT REFERENCES divisions(code),
    institution_id BIGINT REFERENCES institutions(id),
    medium TEXT NOT NULL CHECK (medium IN ('paper', 'electronic')),
    closed_on TEXT NOT NULL,
    due_on TEXT NOT NULL,
    clause TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'kept' CHECK (state IN ('kept', 'disposed')),
    disposed_at TEXT,
    registered_at TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    UNIQUE (class, subject_id)
);
CREATE INDEX retention_records_due ON retention_records (state, due_on);
CREATE INDEX retention_records_district ON retention_records (district_code, due_on);

-- 销毁审批: the two keys (either side first), then the execution. One open disposal per record.
-- removed: JSON of what the execution removed (counts); blob_keys: JSON list of files to delete,
-- purged when blobs_purged_at is set (a crash in between is retried by `retention run`).
CREATE TABLE retention_disposals (
    id {pk},
    record_id BIGINT NOT NULL REFERENCES retention_records(id),
    status TEXT NOT NULL DEFAULT 'proposed' CHECK (status IN ('proposed', 'approved', 'withdrawn', 'done')),
    reason TEXT NOT NULL CHECK (reason <> ''),
    first_side TEXT NOT NULL CHECK (first_side IN ('district', 'city', 'center', 'bureau')),
    first_by TEXT NOT NULL,
    first_at TEXT NOT NULL,
    second_side TEXT CHECK (second_side IS NULL OR second_side IN ('district', 'city', 'center', 'bureau')),
    second_by TEXT,
    second_at TEXT,
    withdrawn_by TEXT,
    withdrawn_at TEXT,
    executed_by TEXT,
    executed_at TEXT,
    removed TEXT NOT NULL DEFAULT '{}',
    blob_keys TEXT NOT NULL DEFAULT '[]',
    blobs_purged_at TEXT
);
CREATE UNIQUE INDEX retention_disposals_open ON retention_disposals (record_id) WHERE status IN ('proposed', 'approved');
CREATE INDEX retention_disposals_record ON retention_disposals (record_id);

-- 冻结（法律保全）: active while lifted_at is NULL; a record may carry several.
CREATE TABLE retention_holds (
    id {pk},
    record_id BIGINT NOT NULL REFERENCES retention_records(id),
    reason TEXT NOT NULL CHECK (reason <> ''),
    placed_by TEXT NOT NULL,
    placed_role TEXT NOT NULL,
    placed_at TEXT NOT NULL,
    lifted_by TEXT,
    lift_reason TEXT,
    lifted_at TEXT
);
CREATE INDEX retention_holds_record ON retention_holds (record_id, lifted_at)
