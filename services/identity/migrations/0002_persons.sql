-- The person registry: learners, teachers and staff, each with an immutable sector ID.

-- Sequences of sector IDs per kind, issuing province and year (a row lock serialises issuing).
CREATE TABLE sector_id_sequences (
    kind           text NOT NULL,
    province_code  integer NOT NULL,
    year           integer NOT NULL,
    last_sequence  integer NOT NULL,
    PRIMARY KEY (kind, province_code, year)
);

CREATE TABLE persons (
    sector_id            text PRIMARY KEY,
    kind                 text NOT NULL CHECK (kind IN ('learner', 'teacher', 'staff')),
    full_name            text NOT NULL,
    name_normalised      text NOT NULL,
    birth_date           date NOT NULL,
    sex                  text NOT NULL CHECK (sex IN ('male', 'female')),
    personal_number      text,
    birthplace           text,
    guardian_name        text,
    org_id               text NOT NULL REFERENCES organisations (org_id),
    verification_status  text NOT NULL DEFAULT 'unverified',
    revision             integer NOT NULL DEFAULT 1,
    merged_into          text REFERENCES persons (sector_id),
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
-- One person per personal number, among persons not merged away.
CREATE UNIQUE INDEX persons_personal_number ON persons (personal_number)
    WHERE personal_number IS NOT NULL AND merged_into IS NULL;
-- Prefix search on the diacritic-free name ("nguyen thi a%").
CREATE INDEX persons_name_normalised ON persons (name_normalised text_pattern_ops);
CREATE INDEX persons_org ON persons (org_id);

-- Other identifiers that resolve to a person: legacy IDs of the former provinces, retired
-- sector IDs of merged duplicates.
CREATE TABLE person_aliases (
    alias       text PRIMARY KEY,
    sector_id   text NOT NULL REFERENCES persons (sector_id),
    source      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX person_aliases_sector_id ON person_aliases (sector_id);
