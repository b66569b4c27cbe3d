-- Learners known to records and their enrolments. A learner has at most one active enrolment.
CREATE TABLE learners (
    learner_id  text PRIMARY KEY,
    revision    integer NOT NULL DEFAULT 0,
    sex         text,
    birth_date  date
);

CREATE TABLE enrolments (
    enrolment_id  uuid PRIMARY KEY,
    learner_id    text NOT NULL REFERENCES learners (learner_id),
    school_id     text NOT NULL,
    school_year   text NOT NULL,
    grade         smallint NOT NULL,
    class_id      text,
    enrolled_on   date NOT NULL,
    ended_on      date,
    status        text NOT NULL DEFAULT 'active',
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX enrolments_one_active ON enrolments (learner_id) WHERE status = 'active';
CREATE INDEX enrolments_school ON enrolments (school_id, school_year);
