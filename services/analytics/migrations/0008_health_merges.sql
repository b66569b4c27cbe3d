-- Person merges as the health aggregates follow them (identity.person.merged / .unmerged):
-- services/analytics/domain/health_fold.py (`persons`). One row per merge id, whichever of its
-- two events came first; a merge counts while `merged AND NOT unmerged`. From here on the
-- `learner_id` of health_counted_measurements and health_counted_swims is the person's ID (the
-- survivor of its active merges); health_measurements and swim_assessments keep the learner ID
-- each record was received under, so that an unmerge can give every record back.
CREATE TABLE health_merges (
    merge_id     uuid PRIMARY KEY,
    survivor_id  text NOT NULL,
    merged_id    text NOT NULL,
    merged       boolean NOT NULL DEFAULT false,
    unmerged     boolean NOT NULL DEFAULT false,
    CHECK (merged OR unmerged)
);
CREATE INDEX health_merges_survivor ON health_merges (survivor_id) WHERE merged AND NOT unmerged;
CREATE INDEX health_merges_merged ON health_merges (merged_id) WHERE merged AND NOT unmerged;
