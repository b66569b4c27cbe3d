-- Where each learner is enrolled now (newest records revision wins), and the maintained count
-- per school and school year that queries read instead of scanning learners.
CREATE TABLE learner_placement (
    learner_id   text PRIMARY KEY,
    revision     integer NOT NULL,
    school_id    text NOT NULL,
    school_year  text NOT NULL,
    grade        smallint NOT NULL,
    sex          text
);

CREATE TABLE school_enrolment (
    school_id    text NOT NULL,
    school_year  text NOT NULL,
    enrolled     bigint NOT NULL DEFAULT 0 CHECK (enrolled >= 0),
    PRIMARY KEY (school_id, school_year)
);
