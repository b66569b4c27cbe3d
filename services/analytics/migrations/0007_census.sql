-- Enrolment on a date ("as of") and frozen census figures (services/analytics/domain/census.py).

-- Every lifecycle event received, keyed by learner and revision (a duplicate changes nothing).
-- effective_on is the event's own date (enrolled_on, transferred_on, left_on), not its arrival;
-- recorded_at is its arrival, kept as the watermark a census names.
CREATE TABLE enrolment_history_events (
    learner_id    text NOT NULL,
    revision      integer NOT NULL,
    event_type    text NOT NULL,
    effective_on  date NOT NULL,
    school_id     text,                 -- NULL: the learner left
    school_year   text NOT NULL,
    grade         smallint,
    sex           text,
    event_time    timestamptz NOT NULL, -- CloudEvents time
    recorded_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (learner_id, revision)
);

-- Derived from the events of each learner, rewritten whenever one of them arrives:
-- the placement holds on [valid_from, valid_to). Sex is the learner's (newest event naming it).
CREATE TABLE enrolment_intervals (
    learner_id   text NOT NULL,
    revision     integer NOT NULL,
    school_id    text NOT NULL,
    school_year  text NOT NULL,
    grade        smallint NOT NULL,
    sex          text NOT NULL,
    valid_from   date NOT NULL,
    valid_to     date,
    PRIMARY KEY (learner_id, revision),
    CHECK (valid_to IS NULL OR valid_to > valid_from)
);
CREATE INDEX enrolment_intervals_school ON enrolment_intervals (school_id, valid_from);

-- identity.person.merged / .unmerged: which learner IDs are one child. An unmerge arriving
-- before its merge inserts the row already undone, so the merge that follows changes nothing.
CREATE TABLE enrolment_person_merges (
    merge_id     uuid PRIMARY KEY,
    survivor_id  text NOT NULL,
    merged_id    text NOT NULL,
    undone       boolean NOT NULL DEFAULT false,
    recorded_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX enrolment_person_merges_active ON enrolment_person_merges (merged_id)
    WHERE NOT undone;

-- A frozen census: the figures of every unit under org_id on census_date, as computed at
-- frozen_at from the history up to the watermark named here. Never updated.
CREATE TABLE census (
    census_id               uuid PRIMARY KEY,
    org_id                  text NOT NULL,
    census_date             date NOT NULL,
    label                   text NOT NULL,
    frozen_at               timestamptz NOT NULL,
    frozen_by               text NOT NULL,
    events_applied          bigint NOT NULL,
    merges_applied          bigint NOT NULL,
    last_event_recorded_at  timestamptz,
    last_event_time         timestamptz,
    total_enrolled          bigint NOT NULL,
    org_tree                text NOT NULL   -- which tree the roll-up used ('current')
);
CREATE INDEX census_by_time ON census (frozen_at DESC, census_id DESC);

-- The units as they were at freezing (names and parents), so that later renames and moves
-- do not change what a census says.
CREATE TABLE census_units (
    census_id  uuid NOT NULL REFERENCES census,
    org_id     text NOT NULL,
    kind       text NOT NULL,
    name       text NOT NULL,
    parent_id  text,
    PRIMARY KEY (census_id, org_id)
);

CREATE TABLE census_figures (
    census_id    uuid NOT NULL REFERENCES census,
    org_id       text NOT NULL,
    school_year  text NOT NULL,
    grade        smallint NOT NULL,
    sex          text NOT NULL,
    enrolled     bigint NOT NULL CHECK (enrolled > 0),
    PRIMARY KEY (census_id, org_id, school_year, grade, sex)
);
