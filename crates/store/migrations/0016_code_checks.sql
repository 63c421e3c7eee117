-- 16: the closed sets of codes (states, kinds, statuses) of the tables made before CHECK
-- constraints were the rule. The store parses these columns into the domain's enums
-- (domain::code::Code); the test schema_checks_match_domain_enums proves both hold the same
-- sets. PostgreSQL gets CHECK constraints; SQLite cannot add one to an existing table, so the
-- same rule is a pair of triggers that refuse an insert or update outside the set.
-- @postgres
ALTER TABLE filing_applications ADD CONSTRAINT filing_applications_kind_code CHECK (kind IN ('social_org', 'enterprise', 'special_ability', 'increment'));
ALTER TABLE filing_applications ADD CONSTRAINT filing_applications_route_code CHECK (route IN ('district', 'city'));
ALTER TABLE filing_applications ADD CONSTRAINT filing_applications_state_code CHECK (state IN ('draft', 'submitted', 'returned', 'district_passed', 'experts_drawn', 'onsite_reviewed', 'city_review', 'publicity', 'publicity_paused', 'filed', 'rejected', 'withdrawn'));
ALTER TABLE institutions ADD CONSTRAINT institutions_kind_code CHECK (kind IN ('social_org', 'enterprise', 'association', 'society'));
ALTER TABLE institutions ADD CONSTRAINT institutions_filing_status_code CHECK (filing_status IN ('unfiled', 'filing', 'filed', 'revoked'));
ALTER TABLE plans ADD CONSTRAINT plans_status_code CHECK (status IN ('draft', 'submitted', 'paper_received', 'district_approved', 'returned', 'rejected', 'entered', 'city_confirmed', 'cancelled'));
ALTER TABLE plans ADD CONSTRAINT plans_results_status_code CHECK (results_status IN ('none', 'publicised', 'submitted'));
ALTER TABLE efilings ADD CONSTRAINT efilings_status_code CHECK (status IN ('missing', 'submitted', 'returned', 'confirmed'));
ALTER TABLE expert_draws ADD CONSTRAINT expert_draws_status_code CHECK (status IN ('committed', 'drawn', 'superseded'));
ALTER TABLE draw_members ADD CONSTRAINT draw_members_status_code CHECK (status IN ('selected', 'replacement', 'declined'));
ALTER TABLE filing_exceptions ADD CONSTRAINT filing_exceptions_status_code CHECK (status IN ('pending', 'granted', 'refused'));
ALTER TABLE users ADD CONSTRAINT users_role_code CHECK (role IN ('admin', 'city_center', 'city_division', 'district', 'institution', 'expert', 'supervisor'));
-- @sqlite
CREATE TRIGGER filing_applications_kind_code_insert BEFORE INSERT ON filing_applications WHEN NEW.kind NOT IN ('social_org', 'enterprise', 'special_ability', 'increment') BEGIN SELECT RAISE(ABORT, 'filing_applications.kind 的取值不在允许的范围内'); END;
CREATE TRIGGER filing_applications_kind_code_update BEFORE UPDATE OF kind ON filing_applications WHEN NEW.kind NOT IN ('social_org', 'enterprise', 'special_ability', 'increment') BEGIN SELECT RAISE(ABORT, 'filing_applications.kind 的取值不在允许的范围内'); END;
CREATE TRIGGER filing_applications_route_code_insert BEFORE INSERT ON filing_applications WHEN NEW.route NOT IN ('district', 'city') BEGIN SELECT RAISE(ABORT, 'filing_applications.route 的取值不在允许的范围内'); END;
CREATE TRIGGER filing_applications_route_code_update BEFORE UPDATE OF route ON filing_applications WHEN NEW.route NOT IN ('district', 'city') BEGIN SELECT RAISE(ABORT, 'filing_applications.route 的取值不在允许的范围内'); END;
CREATE TRIGGER filing_applications_state_code_insert BEFORE INSERT ON filing_applications WHEN NEW.state NOT IN ('draft', 'submitted', 'returned', 'district_passed', 'experts_drawn', 'onsite_reviewed', 'city_review', 'publicity', 'publicity_paused', 'filed', 'rejected', 'withdrawn') BEGIN SELECT RAISE(ABORT, 'filing_applications.state 的取值不在允许的范围内'); END;
CREATE TRIGGER filing_applications_state_code_update BEFORE UPDATE OF state ON filing_applications WHEN NEW.state NOT IN ('draft', 'submitted', 'returned', 'district_passed', 'experts_drawn', 'onsite_reviewed', 'city_review', 'publicity', 'publicity_paused', 'filed', 'rejected', 'withdrawn') BEGIN SELECT RAISE(ABORT, 'filing_applications.state 的取值不在允许的范围内'); END;
CREATE TRIGGER institutions_kind_code_insert BEFORE INSERT ON institutions WHEN NEW.kind NOT IN ('social_org', 'enterprise', 'association', 'society') BEGIN SELECT RAISE(ABORT, 'institutions.kind 的取值不在允许的范围内'); END;
CREATE TRIGGER institutions_kind_code_update BEFORE UPDATE OF kind ON institutions WHEN NEW.kind NOT IN ('social_org', 'enterprise', 'association', 'society') BEGIN SELECT RAISE(ABORT, 'institutions.kind 的取值不在允许的范围内'); END;
CREATE TRIGGER institutions_filing_status_code_insert BEFORE INSERT ON institutions WHEN NEW.filing_status NOT IN ('unfiled', 'filing', 'filed', 'revoked') BEGIN SELECT RAISE(ABORT, 'institutions.filing_status 的取值不在允许的范围内'); END;
CREATE TRIGGER institutions_filing_status_code_update BEFORE UPDATE OF filing_status ON institutions WHEN NEW.filing_status NOT IN ('unfiled', 'filing', 'filed', 'revoked') BEGIN SELECT RAISE(ABORT, 'institutions.filing_status 的取值不在允许的范围内'); END;
CREATE TRIGGER plans_status_code_insert BEFORE INSERT ON plans WHEN NEW.status NOT IN ('draft', 'submitted', 'paper_received', 'district_approved', 'returned', 'rejected', 'entered', 'city_confirmed', 'cancelled') BEGIN SELECT RAISE(ABORT, 'plans.status 的取值不在允许的范围内'); END;
CREATE TRIGGER plans_status_code_update BEFORE UPDATE OF status ON plans WHEN NEW.status NOT IN ('draft', 'submitted', 'paper_received', 'district_approved', 'returned', 'rejected', 'entered', 'city_confirmed', 'cancelled') BEGIN SELECT RAISE(ABORT, 'plans.status 的取值不在允许的范围内'); END;
CREATE TRIGGER plans_results_status_code_insert BEFORE INSERT ON plans WHEN NEW.results_status NOT IN ('none', 'publicised', 'submitted') BEGIN SELECT RAISE(ABORT, 'plans.results_status 的取值不在允许的范围内'); END;
CREATE TRIGGER plans_results_status_code_update BEFORE UPDATE OF results_status ON plans WHEN NEW.results_status NOT IN ('none', 'publicised', 'submitted') BEGIN SELECT RAISE(ABORT, 'plans.results_status 的取值不在允许的范围内'); END;
CREATE TRIGGER efilings_status_code_insert BEFORE INSERT ON efilings WHEN NEW.status NOT IN ('missing', 'submitted', 'returned', 'confirmed') BEGIN SELECT RAISE(ABORT, 'efilings.status 的取值不在允许的范围内'); END;
CREATE TRIGGER efilings_status_code_update BEFORE UPDATE OF status ON efilings WHEN NEW.status NOT IN ('missing', 'submitted', 'returned', 'confirmed') BEGIN SELECT RAISE(ABORT, 'efilings.status 的取值不在允许的范围内'); END;
CREATE TRIGGER expert_draws_status_code_insert BEFORE INSERT ON expert_draws WHEN NEW.status NOT IN ('committed', 'drawn', 'superseded') BEGIN SELECT RAISE(ABORT, 'expert_draws.status 的取值不在允许的范围内'); END;
CREATE TRIGGER expert_draws_status_code_update BEFORE UPDATE OF status ON expert_draws WHEN NEW.status NOT IN ('committed', 'drawn', 'superseded') BEGIN SELECT RAISE(ABORT, 'expert_draws.status 的取值不在允许的范围内'); END;
CREATE TRIGGER draw_members_status_code_insert BEFORE INSERT ON draw_members WHEN NEW.status NOT IN ('selected', 'replacement', 'declined') BEGIN SELECT RAISE(ABORT, 'draw_members.status 的取值不在允许的范围内'); END;
CREATE TRIGGER draw_members_status_code_update BEFORE UPDATE OF status ON draw_members WHEN NEW.status NOT IN ('selected', 'replacement', 'declined') BEGIN SELECT RAISE(ABORT, 'draw_members.status 的取值不在允许的范围内'); END;
CREATE TRIGGER filing_exceptions_status_code_insert BEFORE INSERT ON filing_exceptions WHEN NEW.status NOT IN ('pending', 'granted', 'refused') BEGIN SELECT RAISE(ABORT, 'filing_exceptions.status 的取值不在允许的范围内'); END;
CREATE TRIGGER filing_exceptions_status_code_update BEFORE UPDATE OF status ON filing_exceptions WHEN NEW.status NOT IN ('pending', 'granted', 'refused') BEGIN SELECT RAISE(ABORT, 'filing_exceptions.status 的取值不在允许的范围内'); END;
CREATE TRIGGER users_role_code_insert BEFORE INSERT ON users WHEN NEW.role NOT IN ('admin', 'city_center', 'city_division', 'district', 'institution', 'expert', 'supervisor') BEGIN SELECT RAISE(ABORT, 'users.role 的取值不在允许的范围内'); END;
CREATE TRIGGER users_role_code_update BEFORE UPDATE OF role ON users WHEN NEW.role NOT IN ('admin', 'city_center', 'city_division', 'district', 'institution', 'expert', 'supervisor') BEGIN SELECT RAISE(ABORT, 'users.role 的取值不在允许的范围内'); END;
