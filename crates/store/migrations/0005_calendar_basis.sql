-- 日历依据: every stored date computed on the working-day calendar records whether it rested on
-- a provisional year (临时日历). A decision keeps the basis it was taken on.
ALTER TABLE filing_applications ADD COLUMN publicity_calendar TEXT NOT NULL DEFAULT 'official' CHECK (publicity_calendar IN ('official', 'provisional'));
ALTER TABLE plans ADD COLUMN results_publicity_from TEXT;
ALTER TABLE plans ADD COLUMN results_publicity_calendar TEXT NOT NULL DEFAULT 'official' CHECK (results_publicity_calendar IN ('official', 'provisional'))
