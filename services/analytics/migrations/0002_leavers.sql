-- A learner who left keeps a row (with no school) so that an older event arriving late
-- cannot bring them back.
ALTER TABLE learner_placement ALTER COLUMN school_id DROP NOT NULL;
