-- Review stages of 机构备案 read exactly (issue 7, items 6–10 and 18).

-- 一(一)/(三)/(四): how the review was organised and why; 三(一): the recorded reason for levels
-- above 三级 at a first filing on the city route; 一(一): the expert panel's conclusion and the
-- written reason when the application goes on against a majority of 不通过.
ALTER TABLE filing_applications ADD COLUMN review_mode TEXT CHECK (review_mode IS NULL OR review_mode IN ('onsite', 'written'));
ALTER TABLE filing_applications ADD COLUMN review_mode_reason TEXT;
ALTER TABLE filing_applications ADD COLUMN high_level_reason TEXT;
ALTER TABLE filing_applications ADD COLUMN panel_conclusion TEXT;
ALTER TABLE filing_applications ADD COLUMN panel_override_reason TEXT;

-- 评审督导 dispatched jointly: proposed by one city role, confirmed by the other; the supervisor's
-- 督导意见 with its attachments (document ids of the application).
ALTER TABLE filing_supervisors ADD COLUMN status TEXT NOT NULL DEFAULT 'dispatched' CHECK (status IN ('proposed', 'dispatched'));
ALTER TABLE filing_supervisors ADD COLUMN proposed_role TEXT NOT NULL DEFAULT '';
ALTER TABLE filing_supervisors ADD COLUMN confirmed_by TEXT;
ALTER TABLE filing_supervisors ADD COLUMN confirmed_at TEXT;
ALTER TABLE filing_supervisors ADD COLUMN opinion TEXT;
ALTER TABLE filing_supervisors ADD COLUMN opinion_attachments TEXT NOT NULL DEFAULT '[]';
ALTER TABLE filing_supervisors ADD COLUMN opinion_at TEXT;

-- "按程序报至上级部门": one report to the provincial authority covers a batch of approved applications.
CREATE TABLE province_reports (
    id {pk},
    reported_on TEXT NOT NULL,
    doc_no TEXT NOT NULL,
    document_id BIGINT REFERENCES documents(id),
    note TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE province_report_items (
    id {pk},
    report_id BIGINT NOT NULL REFERENCES province_reports(id),
    application_id BIGINT NOT NULL UNIQUE REFERENCES filing_applications(id)
);
CREATE INDEX province_report_items_report ON province_report_items (report_id);

-- 二(一) 属地: by default the district of the registered address; 'business' after the city agreed
-- to a move to the district of the premises.
ALTER TABLE institutions ADD COLUMN district_basis TEXT NOT NULL DEFAULT 'registered' CHECK (district_basis IN ('registered', 'business'));

CREATE TABLE institution_district_moves (
    id {pk},
    institution_id BIGINT NOT NULL REFERENCES institutions(id),
    from_district TEXT NOT NULL REFERENCES divisions(code),
    to_district TEXT NOT NULL REFERENCES divisions(code),
    reason TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'refused')),
    requested_by TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    decided_by TEXT,
    decided_at TEXT,
    decision_reason TEXT,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX institution_district_moves_institution ON institution_district_moves (institution_id, status)
