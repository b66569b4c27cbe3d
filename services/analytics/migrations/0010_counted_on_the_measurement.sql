-- The measurement that counts for a (person, campaign) is marked on its own row: `counted_for`
-- is the person's ID (the survivor of its merges, as the learner_id of the table it replaces)
-- and the share columns hold what it added to the cells (kept so that a retraction subtracts
-- exactly that). The share's other values (school, class, grade, sex, dates, eye conditions)
-- are the row's own. A separate table of counted measurements cost a heap row and an index
-- entry per measurement, most of them for a measurement that had just been inserted; now the
-- usual measurement is one row, marked as it is copied in. Marks move by UPDATE only when a
-- correction or a merge changes which measurement counts.
ALTER TABLE health_measurements
    ADD COLUMN counted_for      text,
    ADD COLUMN age_group        text CHECK (age_group IN ('under_5', '5_19', 'outside_who')),
    ADD COLUMN nutrition_status text CHECK (nutrition_status IN ('normal', 'overweight',
                                    'obese', 'thin', 'severely_thin', 'wasted',
                                    'severely_wasted', 'flagged', 'unknown')),
    ADD COLUMN stunted          boolean,
    ADD COLUMN eyes_examined    boolean,
    ADD COLUMN acuity_measured  boolean,
    ADD COLUMN reduced_acuity   boolean,
    -- a share exactly when the row counts
    ADD CONSTRAINT health_measurements_share_when_counted CHECK (
        (counted_for IS NULL) = (age_group IS NULL)
        AND (counted_for IS NULL) = (nutrition_status IS NULL)
        AND (counted_for IS NULL) = (stunted IS NULL)
        AND (counted_for IS NULL) = (eyes_examined IS NULL)
        AND (counted_for IS NULL) = (acuity_measured IS NULL)
        AND (counted_for IS NULL) = (reduced_acuity IS NULL));

UPDATE health_measurements m
SET counted_for = c.learner_id, age_group = c.age_group, nutrition_status = c.nutrition_status,
    stunted = c.stunted, eyes_examined = c.eyes_examined, acuity_measured = c.acuity_measured,
    reduced_acuity = c.reduced_acuity
FROM health_counted_measurements c
WHERE c.measurement_id = m.measurement_id;

DROP TABLE health_counted_measurements;

-- The same rows as the table had, for readers (gauges, checks, tests).
CREATE VIEW health_counted_measurements AS
SELECT counted_for AS learner_id, campaign_id, measurement_id, measured_on, event_time,
       school_id, class_id, grade, sex, age_group, nutrition_status, stunted, eyes_examined,
       eye_conditions, acuity_measured, reduced_acuity
FROM health_measurements
WHERE counted_for IS NOT NULL;
