-- Gradebook results and teachers by subject and age band, kept from records.term.finalized,
-- identity.person.merged / unmerged and records.staff.updated
-- (services/analytics/domain/results_fold.py and teacher_stats.py).

-- Memory of results: every finalisation received (one class, school year and term; term 0 =
-- the year) and every learner's item of it. Never updated. Only the newest finalisation of a
-- class term (school, class, year, term; by event time, then event id) is live.
CREATE TABLE results_finalizations (
    event_id    uuid PRIMARY KEY,
    event_time  timestamptz NOT NULL,
    school_id   text NOT NULL,
    class_id    text NOT NULL,
    school_year text NOT NULL,
    term        smallint NOT NULL CHECK (term IN (0, 1, 2)),
    grade       smallint NOT NULL
);
CREATE INDEX results_finalizations_class_term
    ON results_finalizations (school_id, class_id, school_year, term);

CREATE TABLE results_figures (
    event_id    uuid NOT NULL REFERENCES results_finalizations,
    learner_id  text NOT NULL,
    averages    jsonb NOT NULL,   -- {subject_code: average or null}: scored subjects
    comments    jsonb NOT NULL,   -- {subject_code: "dat" | "chua_dat" | null}: comment subjects
    level       text CHECK (level IN ('tot', 'kha', 'dat', 'chua_dat')),
    PRIMARY KEY (event_id, learner_id)
);
CREATE INDEX results_figures_learner ON results_figures (learner_id);

-- Person merges as results follows them: a row per merge; `undone` once its unmerge arrived
-- (an unmerge arriving first is remembered, so the late merge changes nothing).
CREATE TABLE results_person_merges (
    merge_id    uuid PRIMARY KEY,
    survivor_id text NOT NULL,
    merged_id   text NOT NULL,
    undone      boolean NOT NULL
);
CREATE INDEX results_person_merges_survivor ON results_person_merges (survivor_id)
    WHERE NOT undone;
CREATE INDEX results_person_merges_merged ON results_person_merges (merged_id) WHERE NOT undone;

-- Maintained cells: a learner counted once per term and slot. Class, school, commune and
-- province figures are sums of cells; commune and province come from org_units at query time.
CREATE TABLE result_subject_cells (
    school_id     text NOT NULL,
    class_id      text NOT NULL,
    grade         smallint NOT NULL,
    school_year   text NOT NULL,
    term          smallint NOT NULL,
    subject_code  text NOT NULL,
    averaged      bigint NOT NULL DEFAULT 0 CHECK (averaged >= 0),
    sum_tenths    bigint NOT NULL DEFAULT 0 CHECK (sum_tenths >= 0),  -- averages x 10
    avg_below_3_5 bigint NOT NULL DEFAULT 0 CHECK (avg_below_3_5 >= 0),
    avg_3_5_to_5  bigint NOT NULL DEFAULT 0 CHECK (avg_3_5_to_5 >= 0),
    avg_5_to_6_5  bigint NOT NULL DEFAULT 0 CHECK (avg_5_to_6_5 >= 0),
    avg_6_5_to_8  bigint NOT NULL DEFAULT 0 CHECK (avg_6_5_to_8 >= 0),
    avg_8_plus    bigint NOT NULL DEFAULT 0 CHECK (avg_8_plus >= 0),
    dat           bigint NOT NULL DEFAULT 0 CHECK (dat >= 0),
    chua_dat      bigint NOT NULL DEFAULT 0 CHECK (chua_dat >= 0),
    no_result     bigint NOT NULL DEFAULT 0 CHECK (no_result >= 0),
    PRIMARY KEY (school_year, term, school_id, class_id, grade, subject_code),
    CHECK (avg_below_3_5 + avg_3_5_to_5 + avg_5_to_6_5 + avg_6_5_to_8 + avg_8_plus = averaged),
    CHECK (sum_tenths <= 100 * averaged)
);

CREATE TABLE result_level_cells (
    school_id   text NOT NULL,
    class_id    text NOT NULL,
    grade       smallint NOT NULL,
    school_year text NOT NULL,
    term        smallint NOT NULL,
    learners    bigint NOT NULL DEFAULT 0 CHECK (learners >= 0),
    tot         bigint NOT NULL DEFAULT 0 CHECK (tot >= 0),
    kha         bigint NOT NULL DEFAULT 0 CHECK (kha >= 0),
    dat         bigint NOT NULL DEFAULT 0 CHECK (dat >= 0),
    chua_dat    bigint NOT NULL DEFAULT 0 CHECK (chua_dat >= 0),
    no_level    bigint NOT NULL DEFAULT 0 CHECK (no_level >= 0),
    PRIMARY KEY (school_year, term, school_id, class_id, grade),
    CHECK (tot + kha + dat + chua_dat + no_level = learners)
);

-- Teachers: the newest profile revision held per staff member and what it adds (school_id
-- NULL: not counted, e.g. not in position 'teacher').
CREATE TABLE teacher_stats_staff (
    staff_id     text PRIMARY KEY,
    revision     integer NOT NULL,
    school_id    text,
    main_subject text,
    sex          text,
    birth_year   smallint,
    first_year   smallint,
    last_year    smallint
);

-- A teacher adds joined = 1 in the school year they start counting in and departed = 1 in the
-- first one they no longer count in; teachers of school year Y = sum(joined - departed) over
-- the cells of years <= Y (domain/teacher_stats.py).
CREATE TABLE teacher_cells (
    school_id         text NOT NULL,
    main_subject      text NOT NULL,   -- '' = no subject named
    sex               text NOT NULL,
    birth_year        smallint NOT NULL,
    school_year_start smallint NOT NULL,
    joined            bigint NOT NULL DEFAULT 0 CHECK (joined >= 0),
    departed          bigint NOT NULL DEFAULT 0 CHECK (departed >= 0),
    PRIMARY KEY (school_id, main_subject, sex, birth_year, school_year_start)
);
