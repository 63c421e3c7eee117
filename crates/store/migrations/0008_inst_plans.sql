-- Issue 7, 3.1/3.11/3.12/3.13/3.19: paper receipt date, institution self-registration,
-- the district's enterprise register (三(二)) and guidance notes (一(二)).

-- 二(二): the date the district received the paper plan (the 3-working-day rule counts up to it),
-- and how long the paper copy is kept (二(三) 纸质版材料保存三年).
ALTER TABLE plans ADD COLUMN paper_received_on TEXT;
ALTER TABLE plans ADD COLUMN paper_retention_until TEXT;

-- 二(二): a filed institution registers its own account; its district confirms the link.
-- The account stays inactive (cannot log in) until the district confirms.
CREATE TABLE institution_registrations (
    id {pk},
    institution_id BIGINT NOT NULL REFERENCES institutions(id),
    district_code TEXT NOT NULL REFERENCES divisions(code),
    user_id BIGINT NOT NULL REFERENCES users(id),
    credit_code TEXT NOT NULL,
    filing_no TEXT NOT NULL,
    contact_name TEXT NOT NULL DEFAULT '',
    contact_phone TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'refused')),
    reason TEXT NOT NULL DEFAULT '',
    decided_by BIGINT REFERENCES users(id),
    decided_at TEXT,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX institution_registrations_district ON institution_registrations (district_code, status);

-- 三(二): each district's register of the enterprises in its area, with the outreach status.
-- Eligibility (一(二)1) is computed from the policy when read, never stored.
CREATE TABLE enterprise_register (
    id {pk},
    district_code TEXT NOT NULL REFERENCES divisions(code),
    name TEXT NOT NULL,
    credit_code TEXT NOT NULL,
    employees BIGINT NOT NULL,
    capital_yuan BIGINT NOT NULL,
    main_business TEXT NOT NULL DEFAULT '',
    outreach TEXT NOT NULL DEFAULT 'uncontacted' CHECK (outreach IN ('uncontacted', 'informed', 'interested', 'applied', 'ineligible')),
    version BIGINT NOT NULL DEFAULT 1,
    created_by BIGINT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (district_code, credit_code)
);
CREATE INDEX enterprise_register_credit ON enterprise_register (credit_code);

-- 一(二): the district's guidance notes to an enterprise that has not filed yet (工作方案指导).
CREATE TABLE enterprise_guidance (
    id {pk},
    enterprise_id BIGINT NOT NULL REFERENCES enterprise_register(id),
    district_code TEXT NOT NULL,
    note TEXT NOT NULL,
    author_id BIGINT,
    author TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX enterprise_guidance_enterprise ON enterprise_guidance (enterprise_id, id)
