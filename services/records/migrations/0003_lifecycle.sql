-- Classes, the learner lifecycle and the change feed.
CREATE TABLE classes (
    class_id             text PRIMARY KEY,
    school_id            text NOT NULL,
    school_year          text NOT NULL,
    grade                smallint NOT NULL,
    name                 text NOT NULL,
    homeroom_teacher_id  text,
    sessions_per_day     smallint NOT NULL DEFAULT 1,
    created_at           timestamptz NOT NULL DEFAULT now(),
    UNIQUE (school_id, school_year, name)
);

-- Where a learner stands: enrolled, or between placements (promoted / repeated awaiting a
-- class of the next year, transferred out), or gone (graduated, left). Merged records point
-- at the survivor.
ALTER TABLE learners ADD COLUMN state text NOT NULL DEFAULT 'enrolled';
ALTER TABLE learners ADD COLUMN merged_into text;
ALTER TABLE enrolments ADD COLUMN end_reason text;

-- The change feed: every event records publishes, indexed by the schools it concerns, so a
-- school's software can pull what changed since the last position it saw. Filled by a trigger
-- on the outbox, so no use case can forget it.
CREATE TABLE change_index (
    position   bigint NOT NULL,
    school_id  text NOT NULL,
    role       text NOT NULL,  -- 'subject' (the school the event is about) or 'from' (it left)
    PRIMARY KEY (school_id, position)
);

-- A statement-level trigger with a transition table: one INSERT per statement, so bulk
-- writes (COPY of a million health events) stay fast.
CREATE FUNCTION index_changes() RETURNS trigger AS $$
BEGIN
    INSERT INTO change_index (position, school_id, role)
    SELECT n.position, x.school_id, x.role
    FROM new_rows n
    CROSS JOIN LATERAL (SELECT convert_from(n.payload, 'UTF8')::jsonb -> 'data' AS data) d
    CROSS JOIN LATERAL (VALUES (d.data ->> 'school_id', 'subject'),
                               (d.data ->> 'to_school_id', 'subject'),
                               (d.data ->> 'from_school_id', 'from')) AS x(school_id, role)
    WHERE x.school_id IS NOT NULL
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER outbox_change_index AFTER INSERT ON outbox
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION index_changes();
