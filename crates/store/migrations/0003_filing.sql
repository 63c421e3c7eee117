-- 机构备案 (一): applications of the four kinds, their items, every transition as an event,
-- exception requests (特殊情况申请), campaign deadlines, the city expert library and the draws.

CREATE TABLE filing_campaigns (
    id {pk},
    name TEXT NOT NULL,
    deadline TEXT NOT NULL,
    clause TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE filing_applications (
    id {pk},
    kind TEXT NOT NULL,
    route TEXT NOT NULL,
    institution_id BIGINT NOT NULL REFERENCES institutions(id),
    district_code TEXT NOT NULL REFERENCES divisions(code),
    state TEXT NOT NULL,
    state_since TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    shared_resources TEXT NOT NULL DEFAULT '',
    commitment TEXT NOT NULL DEFAULT '',
    waiver BIGINT NOT NULL DEFAULT 0,
    waiver_by TEXT,
    waiver_reason TEXT,
    district_opinion TEXT,
    center_approved_by TEXT,
    center_approved_at TEXT,
    division_approved_by TEXT,
    division_approved_at TEXT,
    publicity_start TEXT,
    publicity_end TEXT,
    filing_no TEXT UNIQUE,
    filed_on TEXT,
    campaign_id BIGINT REFERENCES filing_campaigns(id),
    submitted_at TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    closed_at TEXT,
    retention_until TEXT,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX filing_applications_district ON filing_applications (district_code, state);
CREATE INDEX filing_applications_institution ON filing_applications (institution_id);

CREATE TABLE filing_items (
    id {pk},
    application_id BIGINT NOT NULL REFERENCES filing_applications(id),
    occupation_id BIGINT NOT NULL REFERENCES occupations(id),
    levels TEXT NOT NULL,
    UNIQUE (application_id, occupation_id)
);
CREATE INDEX filing_items_occupation ON filing_items (occupation_id);

-- Every transition (and every sub-record such as a draw or an opinion), never overwritten.
CREATE TABLE filing_events (
    id {pk},
    application_id BIGINT NOT NULL REFERENCES filing_applications(id),
    action TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    actor_id BIGINT,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    attachments TEXT NOT NULL DEFAULT '[]',
    at TEXT NOT NULL
);
CREATE INDEX filing_events_application ON filing_events (application_id, id);

-- 特殊情况申请: raised by the district, decided by the city with two keys.
CREATE TABLE filing_exceptions (
    id {pk},
    institution_id BIGINT NOT NULL REFERENCES institutions(id),
    district_code TEXT NOT NULL,
    rule TEXT NOT NULL,
    occupation_id BIGINT REFERENCES occupations(id),
    reason TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    raised_by TEXT NOT NULL,
    raised_at TEXT NOT NULL,
    center_by TEXT,
    center_at TEXT,
    division_by TEXT,
    division_at TEXT,
    decision_reason TEXT,
    decided_at TEXT,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX filing_exceptions_institution ON filing_exceptions (institution_id, status);

-- 市级技能人才评价专家库.
CREATE TABLE experts (
    id {pk},
    name TEXT NOT NULL,
    id_number TEXT NOT NULL UNIQUE,
    id_masked TEXT NOT NULL,
    employer TEXT NOT NULL DEFAULT '',
    employer_credit_code TEXT,
    district_code TEXT,
    title TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    active BIGINT NOT NULL DEFAULT 1,
    user_id BIGINT REFERENCES users(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE expert_occupations (
    expert_id BIGINT NOT NULL REFERENCES experts(id),
    occupation_id BIGINT NOT NULL REFERENCES occupations(id),
    PRIMARY KEY (expert_id, occupation_id)
);

CREATE TABLE expert_unavailable (
    id {pk},
    expert_id BIGINT NOT NULL REFERENCES experts(id),
    date_from TEXT NOT NULL,
    date_to TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT ''
);

-- One row per draw attempt. The commitment is written before the draw; secret, pool and
-- result when the draw is made. Superseded attempts stay, visible to the city.
CREATE TABLE expert_draws (
    id {pk},
    application_id BIGINT NOT NULL REFERENCES filing_applications(id),
    attempt BIGINT NOT NULL,
    commitment TEXT NOT NULL,
    secret TEXT NOT NULL,
    status TEXT NOT NULL,
    size BIGINT NOT NULL DEFAULT 0,
    pool TEXT NOT NULL DEFAULT '[]',
    pool_hash TEXT NOT NULL DEFAULT '',
    exclusions TEXT NOT NULL DEFAULT '[]',
    seed TEXT NOT NULL DEFAULT '',
    selected TEXT NOT NULL DEFAULT '[]',
    declined TEXT NOT NULL DEFAULT '[]',
    reason TEXT NOT NULL DEFAULT '',
    committed_at TEXT NOT NULL,
    drawn_by TEXT,
    drawn_at TEXT,
    UNIQUE (application_id, attempt)
);

-- The experts of a draw, with their on-site opinions.
CREATE TABLE draw_members (
    id {pk},
    draw_id BIGINT NOT NULL REFERENCES expert_draws(id),
    application_id BIGINT NOT NULL REFERENCES filing_applications(id),
    expert_id BIGINT NOT NULL REFERENCES experts(id),
    position BIGINT NOT NULL,
    status TEXT NOT NULL,
    decline_reason TEXT,
    conclusion TEXT,
    opinion TEXT,
    opinion_at TEXT,
    UNIQUE (draw_id, expert_id)
);
CREATE INDEX draw_members_expert ON draw_members (expert_id);

-- 评审督导 dispatched by the city.
CREATE TABLE filing_supervisors (
    id {pk},
    application_id BIGINT NOT NULL REFERENCES filing_applications(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    dispatched_by TEXT NOT NULL,
    dispatched_at TEXT NOT NULL,
    UNIQUE (application_id, user_id)
)
