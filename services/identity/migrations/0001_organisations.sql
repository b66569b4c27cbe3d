-- The organisation registry: province -> commune-level units -> schools.
CREATE TABLE organisations (
    org_id        text PRIMARY KEY,
    revision      integer NOT NULL DEFAULT 1,
    kind          text NOT NULL CHECK (kind IN ('province', 'commune', 'school', 'daycare_group')),
    name          text NOT NULL,
    parent_id     text REFERENCES organisations (org_id),
    agency_code   text UNIQUE,
    commune_type  text,
    school_type   text,
    ownership     text,
    valid_from    date NOT NULL,
    valid_to      date,
    merged_into   text REFERENCES organisations (org_id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX organisations_parent ON organisations (parent_id);

-- Every revision of every unit, so that a record dated before a reorganisation still resolves.
CREATE TABLE organisation_history (
    org_id      text NOT NULL REFERENCES organisations (org_id),
    revision    integer NOT NULL,
    change      text NOT NULL,
    snapshot    jsonb NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now(),
    changed_by  text NOT NULL,
    PRIMARY KEY (org_id, revision)
);
