-- The enrolment counts start from the placement a learner's newest event in
-- enrolment_history_events gives, and the forecast reads the open placement intervals
-- (enrolment_intervals with valid_to NULL: exactly the newest revisions' placements). The
-- table of current placements said the same again, at a heap row and two index entries per
-- enrolment, a quarter of PostgreSQL's work on an enrolment.
--
-- The history has been kept since migration 0007, together with the counts in one
-- transaction; a database whose counts began before 0007 would need its history replayed
-- from the topics first (no deployment predates it).
DROP TABLE learner_placement;
