-- Reorganisations take effect on a date (a decree's "from 1 July 2025"): keep it with each
-- revision so that a record dated before the change still resolves to the unit as it was.
ALTER TABLE organisation_history ADD COLUMN effective_from date;
UPDATE organisation_history SET effective_from = (snapshot ->> 'valid_from')::date
WHERE effective_from IS NULL;
ALTER TABLE organisation_history ALTER COLUMN effective_from SET NOT NULL;
CREATE INDEX organisation_history_effective ON organisation_history (org_id, effective_from);
