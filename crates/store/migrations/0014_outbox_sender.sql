-- 14: what the outbox sender needs beyond migration 12's claim columns.
-- kind: the message kind (e.g. filing_decision), which picks the SMS gateway's template;
-- params: the template's variables as a JSON object (SMS gateways send templates, not free text);
-- provider_ref: what the SMTP server or the gateway answered on acceptance (its message id);
-- requeues: how often an admin re-queued the message after it failed (attempts restart then).
-- @all
ALTER TABLE outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'notice';
ALTER TABLE outbox ADD COLUMN params TEXT NOT NULL DEFAULT '{}';
ALTER TABLE outbox ADD COLUMN provider_ref TEXT;
ALTER TABLE outbox ADD COLUMN requeues BIGINT NOT NULL DEFAULT 0;
CREATE INDEX outbox_channel_status ON outbox (channel, status, id);
