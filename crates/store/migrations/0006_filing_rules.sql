-- Submission rules of 一(一) and 一(四): one-case exceptions, increment rounds, 增级别 items.

-- The occupations an exception (特殊情况申请) names. The old single occupation_id is copied over.
CREATE TABLE filing_exception_occupations (
    exception_id BIGINT NOT NULL REFERENCES filing_exceptions(id),
    occupation_id BIGINT NOT NULL REFERENCES occupations(id),
    PRIMARY KEY (exception_id, occupation_id)
);
INSERT INTO filing_exception_occupations (exception_id, occupation_id)
    SELECT id, occupation_id FROM filing_exceptions WHERE occupation_id IS NOT NULL;

-- Granted: usable until expires_on, then once, by the application that used it.
ALTER TABLE filing_exceptions ADD COLUMN expires_on TEXT;
ALTER TABLE filing_exceptions ADD COLUMN used_by_application BIGINT REFERENCES filing_applications(id);
ALTER TABLE filing_exceptions ADD COLUMN used_at TEXT;
UPDATE filing_exceptions SET rule = 'max_occupations_per_applicant' WHERE rule = 'max_occupations_per_application';

-- 一(四): the round an increment was first submitted in (YYYY-MM, or extra-N).
ALTER TABLE filing_applications ADD COLUMN increment_round TEXT;

-- 0: the item adds levels to an occupation the institution already holds (增级别), 1: a new occupation.
ALTER TABLE filing_items ADD COLUMN new_occupation BIGINT NOT NULL DEFAULT 1 CHECK (new_occupation IN (0, 1));

-- Extra increment rounds opened by the city (原则上每年3月和9月: the city may open another).
CREATE TABLE increment_rounds (
    id {pk},
    opens_on TEXT NOT NULL,
    closes_on TEXT NOT NULL,
    reason TEXT NOT NULL CHECK (reason <> ''),
    opened_by TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    CHECK (closes_on >= opens_on)
);
CREATE INDEX increment_rounds_dates ON increment_rounds (opens_on, closes_on)
