-- Merging duplicates. A merged record stays in `persons` with merged_into set: its ID (and
-- its aliases) keep resolving, through the chain, to the survivor. Unmerge clears merged_into.
CREATE TABLE merges (
    merge_id        uuid PRIMARY KEY,
    survivor_id     text NOT NULL REFERENCES persons (sector_id),
    merged_id       text NOT NULL REFERENCES persons (sector_id),
    reason          text NOT NULL,
    decided_by      text NOT NULL,
    merged_at       timestamptz NOT NULL DEFAULT now(),
    unmerged_at     timestamptz,
    unmerged_by     text,
    unmerge_reason  text
);
CREATE UNIQUE INDEX merges_active ON merges (merged_id) WHERE unmerged_at IS NULL;
CREATE INDEX merges_survivor ON merges (survivor_id);
CREATE INDEX persons_merged_into ON persons (merged_into) WHERE merged_into IS NOT NULL;

-- Probable duplicates found by a scan or an import, waiting for a person to decide.
CREATE TABLE duplicate_candidates (
    candidate_id  bigserial PRIMARY KEY,
    person_a      text NOT NULL REFERENCES persons (sector_id),
    person_b      text NOT NULL REFERENCES persons (sector_id),
    score         real NOT NULL,
    decision      text NOT NULL CHECK (decision IN ('auto_merge', 'review')),
    reasons       jsonb NOT NULL,
    status        text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'merged', 'dismissed')),
    found_at      timestamptz NOT NULL DEFAULT now(),
    resolved_by   text,
    resolved_at   timestamptz,
    CHECK (person_a < person_b),
    UNIQUE (person_a, person_b)
);
CREATE INDEX duplicate_candidates_open ON duplicate_candidates (status, score DESC);
