-- Health checks (measurement campaigns, height/weight/eyesight, swimming) and bulk imports.

-- A campaign is one round of health checks (đợt khám sức khỏe) run by a school, a commune or
-- the Department: it covers every school at or below `org_id`.
CREATE TABLE health_campaigns (
    campaign_id  text PRIMARY KEY,
    org_id       text NOT NULL,
    name         text NOT NULL,
    school_year  text NOT NULL,
    term         smallint NOT NULL CHECK (term IN (1, 2)),
    starts_on    date NOT NULL,
    ends_on      date NOT NULL CHECK (ends_on >= starts_on),
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX health_campaigns_org ON health_campaigns (org_id, school_year);

-- One current measurement per learner and campaign (replaced_by IS NULL); a correction keeps
-- the earlier row, superseded, pointing at its replacement. Sex and birth date are the ones
-- the plausibility check used (the learner's record, or the submission when the record had
-- none). No foreign keys to learners or campaigns: the writers check both under the learner's
-- row lock, and a million RI trigger calls would double the cost of a province's import.
CREATE TABLE health_measurements (
    measurement_id  uuid PRIMARY KEY,
    learner_id      text NOT NULL,
    campaign_id     text NOT NULL,
    school_id       text NOT NULL,
    class_id        text,
    measured_on     date NOT NULL,
    sex             text NOT NULL CHECK (sex IN ('male', 'female')),
    birth_date      date NOT NULL,
    height_cm       double precision CHECK (height_cm > 0 AND height_cm < 250),
    weight_kg       double precision CHECK (weight_kg > 0 AND weight_kg < 300),
    eyesight_left   double precision CHECK (eyesight_left BETWEEN 0 AND 2),
    eyesight_right  double precision CHECK (eyesight_right BETWEEN 0 AND 2),
    eye_conditions  text[] NOT NULL DEFAULT '{}',
    grade           smallint,  -- of the enrolment when it was recorded
    recorded_at     timestamptz NOT NULL,
    recorded_by     text NOT NULL,
    import_id       uuid,
    replaces        uuid,
    replaced_by     uuid,
    superseded_at   timestamptz
);
CREATE UNIQUE INDEX health_measurements_current
    ON health_measurements (learner_id, campaign_id) WHERE replaced_by IS NULL;
-- Superseded rows are few: a small partial index serves a learner's history.
CREATE INDEX health_measurements_superseded
    ON health_measurements (learner_id) WHERE replaced_by IS NOT NULL;
-- Class and school lists of a campaign, paged by learner.
CREATE INDEX health_measurements_listing
    ON health_measurements (campaign_id, school_id, class_id, learner_id)
    WHERE replaced_by IS NULL;

CREATE TABLE swim_assessments (
    assessment_id  uuid PRIMARY KEY,
    learner_id     text NOT NULL,
    campaign_id    text NOT NULL,
    school_id      text NOT NULL,
    class_id       text,
    assessed_on    date NOT NULL,
    ability        text NOT NULL
                   CHECK (ability IN ('cannot_swim', 'swims_with_aid', 'swims_25m_unaided')),
    grade          smallint,  -- of the enrolment when it was recorded
    sex            text CHECK (sex IN ('male', 'female')),  -- of the learner's record, if any
    recorded_at    timestamptz NOT NULL,
    recorded_by    text NOT NULL,
    import_id      uuid,
    replaces       uuid,
    replaced_by    uuid,
    superseded_at  timestamptz
);
CREATE UNIQUE INDEX swim_assessments_current
    ON swim_assessments (learner_id, campaign_id) WHERE replaced_by IS NULL;
CREATE INDEX swim_assessments_superseded
    ON swim_assessments (learner_id) WHERE replaced_by IS NOT NULL;
CREATE INDEX swim_assessments_listing
    ON swim_assessments (campaign_id, school_id, class_id, learner_id)
    WHERE replaced_by IS NULL;

-- Bulk imports (CSV / .xlsx) and the outcome of every row, for the result file.
CREATE TABLE imports (
    import_id       uuid PRIMARY KEY,
    kind            text NOT NULL,
    submitted_by    text NOT NULL,
    submitted_role  text NOT NULL,
    submitted_org   text NOT NULL,
    file_name       text NOT NULL,
    sha256          text NOT NULL,
    path            text NOT NULL CHECK (path IN ('savepoint', 'bulk')),
    rows_total      integer NOT NULL DEFAULT 0,
    accepted        integer NOT NULL DEFAULT 0,
    rejected        integer NOT NULL DEFAULT 0,
    unchanged       integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz
);
CREATE INDEX imports_submitted_org ON imports (submitted_org, created_at);
CREATE INDEX imports_sha256 ON imports (sha256);

-- row_number is the row's line in the file (the header is line 1). errors: a JSON array of
-- {field, rule, message}, NULL when there are none.
CREATE TABLE import_rows (
    import_id   uuid NOT NULL,
    row_number  integer NOT NULL,
    outcome     text NOT NULL CHECK (outcome IN ('accepted', 'rejected', 'unchanged')),
    record_id   text,
    errors      jsonb,
    PRIMARY KEY (import_id, row_number)
);
