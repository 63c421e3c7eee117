-- API tokens scoped to a role and an area (issue 8, item 12): a token acts only while its account
-- still holds that role in that district. Tokens issued before this migration take their
-- account's role and district.
ALTER TABLE api_tokens ADD COLUMN role TEXT CHECK (role IS NULL OR role IN ('admin', 'city_center', 'city_division', 'district', 'institution', 'expert', 'supervisor'));
ALTER TABLE api_tokens ADD COLUMN district_code TEXT;
UPDATE api_tokens SET role = (SELECT u.role FROM users u WHERE u.id = api_tokens.user_id),
    district_code = (SELECT u.district_code FROM users u WHERE u.id = api_tokens.user_id);
