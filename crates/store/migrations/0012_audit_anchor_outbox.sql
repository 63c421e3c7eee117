-- 12: the audit trail is append-only in the database itself; the outbox gets what a sender
-- with retries and several app servers needs.
-- Sections: lines after "-- @postgres" or "-- @sqlite" apply to that backend only, after
-- "-- @all" to both. A statement ends with ";" at the end of a line, so trigger bodies may
-- hold ";" inside a line.
-- @postgres
CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION '审计记录只能追加'; END $$ LANGUAGE plpgsql;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
-- @sqlite
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events BEGIN SELECT RAISE(ABORT, '审计记录只能追加'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events BEGIN SELECT RAISE(ABORT, '审计记录只能追加'); END;
-- @all
ALTER TABLE outbox ADD COLUMN next_attempt_at TEXT;
ALTER TABLE outbox ADD COLUMN claimed_until TEXT;
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
