-- Where each learner is enrolled, learned from records.student.enrolled (records owns it),
-- for roster exports (OneRoster) of schools, classes and learners.
CREATE TABLE roster_enrolments (
    learner_id   text PRIMARY KEY,
    revision     integer NOT NULL,
    school_id    text NOT NULL,
    class_id     text,
    school_year  text NOT NULL,
    grade        smallint NOT NULL
);
CREATE INDEX roster_enrolments_school ON roster_enrolments (school_id);
