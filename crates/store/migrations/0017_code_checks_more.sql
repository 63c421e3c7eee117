-- 17: the closed sets of codes migration 16 left out, now parsed into the domain's enums by the
-- store: calendar_days.kind (domain::calendar::DayKind), occupations.kind
-- (domain::reference::ItemKind) and jobs.status (domain::job::JobStatus). As in 16: CHECK
-- constraints on PostgreSQL, a pair of refusing triggers on SQLite.
-- @postgres
ALTER TABLE calendar_days ADD CONSTRAINT calendar_days_kind_code CHECK (kind IN ('off', 'work'));
ALTER TABLE occupations ADD CONSTRAINT occupations_kind_code CHECK (kind IN ('occupation', 'special'));
ALTER TABLE jobs ADD CONSTRAINT jobs_status_code CHECK (status IN ('queued', 'running', 'succeeded', 'failed'));
-- @sqlite
CREATE TRIGGER calendar_days_kind_code_insert BEFORE INSERT ON calendar_days WHEN NEW.kind NOT IN ('off', 'work') BEGIN SELECT RAISE(ABORT, 'calendar_days.kind 的取值不在允许的范围内'); END;
CREATE TRIGGER calendar_days_kind_code_update BEFORE UPDATE OF kind ON calendar_days WHEN NEW.kind NOT IN ('off', 'work') BEGIN SELECT RAISE(ABORT, 'calendar_days.kind 的取值不在允许的范围内'); END;
CREATE TRIGGER occupations_kind_code_insert BEFORE INSERT ON occupations WHEN NEW.kind NOT IN ('occupation', 'special') BEGIN SELECT RAISE(ABORT, 'occupations.kind 的取值不在允许的范围内'); END;
CREATE TRIGGER occupations_kind_code_update BEFORE UPDATE OF kind ON occupations WHEN NEW.kind NOT IN ('occupation', 'special') BEGIN SELECT RAISE(ABORT, 'occupations.kind 的取值不在允许的范围内'); END;
CREATE TRIGGER jobs_status_code_insert BEFORE INSERT ON jobs WHEN NEW.status NOT IN ('queued', 'running', 'succeeded', 'failed') BEGIN SELECT RAISE(ABORT, 'jobs.status 的取值不在允许的范围内'); END;
CREATE TRIGGER jobs_status_code_update BEFORE UPDATE OF status ON jobs WHEN NEW.status NOT IN ('queued', 'running', 'succeeded', 'failed') BEGIN SELECT RAISE(ABORT, 'jobs.status 的取值不在允许的范围内'); END;
