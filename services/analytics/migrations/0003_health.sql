-- Health aggregates: nutrition status by WHO references, swimming, eyes; kept from
-- records.health.measured and records.swim.assessed (services/analytics/domain/health_fold.py).

-- Memory: every measurement and swim assessment received, so that a correction arriving before
-- what it replaces, or retracting the counted record while an earlier live one exists, ends
-- as a recount from scratch would. Never updated; one row per record id.
CREATE TABLE health_measurements (
    measurement_id  uuid PRIMARY KEY,
    learner_id      text NOT NULL,
    campaign_id     text NOT NULL,
    event_time      timestamptz NOT NULL,   -- CloudEvents time: the second ordering key
    measured_on     date NOT NULL,
    school_id       text NOT NULL,
    class_id        text,
    sex             text NOT NULL,
    birth_date      date NOT NULL,
    height_cm       double precision,
    weight_kg       double precision,
    eyesight_left   double precision,
    eyesight_right  double precision,
    eye_conditions  text[] NOT NULL DEFAULT '{}',
    replaces        uuid,
    grade           smallint
);
CREATE INDEX health_measurements_key ON health_measurements (learner_id, campaign_id);

CREATE TABLE swim_assessments (
    assessment_id   uuid PRIMARY KEY,
    learner_id      text NOT NULL,
    campaign_id     text NOT NULL,
    event_time      timestamptz NOT NULL,
    assessed_on     date NOT NULL,
    school_id       text NOT NULL,
    class_id        text,
    ability         text NOT NULL
                    CHECK (ability IN ('cannot_swim', 'swims_with_aid', 'swims_25m_unaided')),
    replaces        uuid,
    grade           smallint
);
CREATE INDEX swim_assessments_key ON swim_assessments (learner_id, campaign_id);

-- Per learner and campaign: what is counted in the cells now (the share), exactly as it was
-- added, so that a retraction subtracts the same thing even if classification code changed.
CREATE TABLE health_counted_measurements (
    learner_id      text NOT NULL,
    campaign_id     text NOT NULL,
    measurement_id  uuid NOT NULL,
    measured_on     date NOT NULL,
    event_time      timestamptz NOT NULL,
    school_id       text NOT NULL,
    class_id        text,
    grade           smallint,
    sex             text NOT NULL,
    age_group       text NOT NULL CHECK (age_group IN ('under_5', '5_19', 'outside_who')),
    nutrition_status text NOT NULL CHECK (nutrition_status IN ('normal', 'overweight', 'obese',
                        'thin', 'severely_thin', 'wasted', 'severely_wasted', 'flagged',
                        'unknown')),
    stunted         boolean NOT NULL,
    eyes_examined   boolean NOT NULL,
    eye_conditions  text[] NOT NULL,
    acuity_measured boolean NOT NULL,
    reduced_acuity  boolean NOT NULL,
    PRIMARY KEY (learner_id, campaign_id)
);

CREATE TABLE health_counted_swims (
    learner_id      text NOT NULL,
    campaign_id     text NOT NULL,
    assessment_id   uuid NOT NULL,
    school_id       text NOT NULL,
    class_id        text,
    grade           smallint,
    sex             text NOT NULL,   -- the learner's sex it is counted under, or 'unknown'
    ability         text NOT NULL,
    PRIMARY KEY (learner_id, campaign_id)
);

-- Maintained cells: sums of the shares. Class, school, commune and province figures are sums
-- of cells; commune and province come from org_units at query time. Key sentinels:
-- class_id '' = no class named, grade -1 = not known (the v1 contracts carry no grade),
-- sex 'unknown' = swim cells of a learner with no counted measurement yet.
CREATE TABLE nutrition_cells (
    campaign_id     text NOT NULL,
    school_id       text NOT NULL,
    class_id        text NOT NULL,
    grade           smallint NOT NULL,
    sex             text NOT NULL,
    age_group       text NOT NULL,   -- under_5 (WHO 2006), 5_19 (WHO 2007), outside_who
    measured        bigint NOT NULL DEFAULT 0 CHECK (measured >= 0),
    normal          bigint NOT NULL DEFAULT 0 CHECK (normal >= 0),
    overweight      bigint NOT NULL DEFAULT 0 CHECK (overweight >= 0),
    obese           bigint NOT NULL DEFAULT 0 CHECK (obese >= 0),
    thin            bigint NOT NULL DEFAULT 0 CHECK (thin >= 0),
    severely_thin   bigint NOT NULL DEFAULT 0 CHECK (severely_thin >= 0),
    wasted          bigint NOT NULL DEFAULT 0 CHECK (wasted >= 0),
    severely_wasted bigint NOT NULL DEFAULT 0 CHECK (severely_wasted >= 0),
    flagged         bigint NOT NULL DEFAULT 0 CHECK (flagged >= 0),
    unknown         bigint NOT NULL DEFAULT 0 CHECK (unknown >= 0),
    stunted         bigint NOT NULL DEFAULT 0 CHECK (stunted >= 0),
    PRIMARY KEY (campaign_id, school_id, class_id, grade, sex, age_group),
    -- the statuses are exclusive: each counted measurement has exactly one
    CHECK (normal + overweight + obese + thin + severely_thin + wasted + severely_wasted
           + flagged + unknown = measured),
    CHECK (stunted <= measured - flagged - unknown)
);

CREATE TABLE eye_cells (
    campaign_id     text NOT NULL,
    school_id       text NOT NULL,
    class_id        text NOT NULL,
    grade           smallint NOT NULL,
    sex             text NOT NULL,
    examined        bigint NOT NULL DEFAULT 0 CHECK (examined >= 0),
    any_condition   bigint NOT NULL DEFAULT 0 CHECK (any_condition >= 0),
    myopia          bigint NOT NULL DEFAULT 0 CHECK (myopia >= 0),
    hyperopia       bigint NOT NULL DEFAULT 0 CHECK (hyperopia >= 0),
    astigmatism     bigint NOT NULL DEFAULT 0 CHECK (astigmatism >= 0),
    strabismus      bigint NOT NULL DEFAULT 0 CHECK (strabismus >= 0),
    other           bigint NOT NULL DEFAULT 0 CHECK (other >= 0),
    acuity_measured bigint NOT NULL DEFAULT 0 CHECK (acuity_measured >= 0),
    reduced_acuity  bigint NOT NULL DEFAULT 0 CHECK (reduced_acuity >= 0),
    PRIMARY KEY (campaign_id, school_id, class_id, grade, sex),
    CHECK (any_condition <= examined),
    CHECK (greatest(myopia, hyperopia, astigmatism, strabismus, other) <= any_condition),
    CHECK (acuity_measured <= examined),
    CHECK (reduced_acuity <= acuity_measured)
);

CREATE TABLE swim_cells (
    campaign_id       text NOT NULL,
    school_id         text NOT NULL,
    class_id          text NOT NULL,
    grade             smallint NOT NULL,
    sex               text NOT NULL,
    assessed          bigint NOT NULL DEFAULT 0 CHECK (assessed >= 0),
    cannot_swim       bigint NOT NULL DEFAULT 0 CHECK (cannot_swim >= 0),
    swims_with_aid    bigint NOT NULL DEFAULT 0 CHECK (swims_with_aid >= 0),
    swims_25m_unaided bigint NOT NULL DEFAULT 0 CHECK (swims_25m_unaided >= 0),
    PRIMARY KEY (campaign_id, school_id, class_id, grade, sex),
    CHECK (cannot_swim + swims_with_aid + swims_25m_unaided = assessed)
);
