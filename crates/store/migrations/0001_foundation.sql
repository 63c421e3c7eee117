-- Foundation schema. Portable SQL for SQLite and PostgreSQL: integers are BIGINT, flags are
-- BIGINT 0/1, times are RFC 3339 UTC text, dates are YYYY-MM-DD text.
-- Every business record knows its type, owner and closing date (closed_at, retention_until)
-- so that retention and disposal can act on it later.

CREATE TABLE divisions (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    official_code TEXT,
    sort BIGINT NOT NULL DEFAULT 0,
    active BIGINT NOT NULL DEFAULT 1,
    version BIGINT NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL
);

CREATE TABLE occupations (
    id {pk},
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    levels TEXT NOT NULL,
    confirmed BIGINT NOT NULL DEFAULT 0,
    active BIGINT NOT NULL DEFAULT 1,
    version BIGINT NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL,
    UNIQUE (kind, code, name)
);

CREATE TABLE calendar_years (
    year BIGINT PRIMARY KEY,
    source TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE calendar_days (
    day TEXT PRIMARY KEY,
    year BIGINT NOT NULL REFERENCES calendar_years(year),
    kind TEXT NOT NULL,
    name TEXT NOT NULL
);

CREATE TABLE institutions (
    id {pk},
    name TEXT NOT NULL,
    credit_code TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    district_code TEXT NOT NULL REFERENCES divisions(code),
    legal_person BIGINT NOT NULL DEFAULT 1,
    employees BIGINT NOT NULL DEFAULT 0,
    capital_yuan BIGINT NOT NULL DEFAULT 0,
    business_scope TEXT NOT NULL DEFAULT '',
    reg_address TEXT NOT NULL DEFAULT '',
    reg_district TEXT NOT NULL,
    biz_address TEXT NOT NULL DEFAULT '',
    biz_district TEXT NOT NULL,
    contact_name TEXT NOT NULL DEFAULT '',
    contact_phone TEXT NOT NULL DEFAULT '',
    filing_status TEXT NOT NULL DEFAULT 'unfiled',
    filing_no TEXT,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    closed_at TEXT,
    retention_until TEXT
);
CREATE INDEX institutions_district ON institutions (district_code);

CREATE TABLE users (
    id {pk},
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    district_code TEXT REFERENCES divisions(code),
    institution_id BIGINT REFERENCES institutions(id),
    employer TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    must_change_password BIGINT NOT NULL DEFAULT 0,
    active BIGINT NOT NULL DEFAULT 1,
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until TEXT,
    version BIGINT NOT NULL DEFAULT 1,
    created_by BIGINT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX users_district ON users (district_code);
CREATE INDEX users_institution ON users (institution_id);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    client_addr TEXT NOT NULL,
    user_agent TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id {pk},
    token_hash TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id),
    created_by BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT,
    last_used_at TEXT
);

CREATE TABLE login_failures (
    id {pk},
    username TEXT NOT NULL,
    client_addr TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX login_failures_addr ON login_failures (client_addr, at);

-- Append-only: seq is assigned as last + 1 under a lock, so it has no gaps.
CREATE TABLE audit_events (
    seq BIGINT PRIMARY KEY,
    at TEXT NOT NULL,
    actor_id BIGINT,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id TEXT NOT NULL,
    summary TEXT NOT NULL,
    request_id TEXT NOT NULL,
    client_addr TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_object ON audit_events (object_type, object_id);
CREATE INDEX audit_actor ON audit_events (actor_id);

-- Certificate data published for public query (二(三)); filled by the certificate issue.
-- The number is the national 22-character number: unique, never reused.
CREATE TABLE certificates (
    cert_no TEXT PRIMARY KEY,
    holder_name TEXT NOT NULL,
    id_type TEXT NOT NULL,
    id_number_masked TEXT NOT NULL,
    id_number_hash TEXT NOT NULL,
    occupation_code TEXT NOT NULL,
    occupation_name TEXT NOT NULL,
    work_type TEXT NOT NULL DEFAULT '--',
    level BIGINT NOT NULL,
    institution_id BIGINT NOT NULL REFERENCES institutions(id),
    institution_name TEXT NOT NULL,
    issued_on TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'valid',
    created_at TEXT NOT NULL,
    closed_at TEXT,
    retention_until TEXT
);
CREATE INDEX certificates_holder ON certificates (id_number_hash)
;

-- 备案范围: the occupations and levels an institution is filed for. Written when a filing
-- (initial or incremental) completes; read by evaluation plans and the public list.
CREATE TABLE filed_occupations (
    id {pk},
    institution_id BIGINT NOT NULL REFERENCES institutions(id),
    occupation_id BIGINT NOT NULL REFERENCES occupations(id),
    levels TEXT NOT NULL,
    filing_no TEXT NOT NULL,
    filed_on TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT 'filing',
    revoked_at TEXT,
    UNIQUE (institution_id, occupation_id)
);
CREATE INDEX filed_occupations_occupation ON filed_occupations (occupation_id)
