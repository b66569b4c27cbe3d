-- Verification against the national population register (Cơ sở dữ liệu quốc gia về dân cư).
-- The register is reached through government channels the platform cannot call, so a batch of
-- requests leaves as a file and the register's response comes back as a file (format:
-- services/identity/domain/verification_files.py).

-- One request file. `org_id` is the scope the batch was made for: whoever may act on that
-- unit may download the request and import the response.
CREATE TABLE verification_batches (
    batch_id     text PRIMARY KEY CHECK (length(batch_id) BETWEEN 1 AND 64),
    org_id       text NOT NULL REFERENCES organisations (org_id),
    selection    jsonb NOT NULL,
    row_count    integer NOT NULL CHECK (row_count >= 1),
    status       text NOT NULL DEFAULT 'requested' CHECK (status IN ('requested', 'answered')),
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    answered_at  timestamptz
);
CREATE INDEX verification_batches_org ON verification_batches (org_id, created_at);

-- One line of a request and, once the register answered, its answer. `ours` is the snapshot of
-- what was sent (the request file is rebuilt from it); `register_values` what came back.
-- `applied_at` is set when the answer changed the person; `outcome` says why it did not
-- (the person was merged or corrected after the request left).
CREATE TABLE verification_rows (
    batch_id           text NOT NULL REFERENCES verification_batches (batch_id),
    row_no             integer NOT NULL CHECK (row_no >= 1),
    sector_id          text NOT NULL REFERENCES persons (sector_id),
    ours               jsonb NOT NULL,
    result             text CHECK (result IN ('MATCHED', 'MISMATCH', 'NOT_FOUND')),
    register_values    jsonb,
    mismatched_fields  text[] NOT NULL DEFAULT '{}',
    answered_at        timestamptz,
    applied_at         timestamptz,
    outcome            text,
    PRIMARY KEY (batch_id, row_no),
    UNIQUE (batch_id, sector_id)
);
CREATE INDEX verification_rows_sector_id ON verification_rows (sector_id);
-- Persons still waiting for an answer (kept out of new batches unless asked for).
CREATE INDEX verification_rows_pending ON verification_rows (sector_id) WHERE result IS NULL;

-- Mismatches waiting for staff: our value and the register's side by side
-- (`differences`: [{field, ours, register, kind, label}]). One open item per person: a newer
-- answer closes it (`superseded` by a new item, or `matched_later`); staff close it by taking
-- the register's values (`register`) or keeping ours (`ours`).
CREATE TABLE verification_worklist (
    item_id          bigserial PRIMARY KEY,
    sector_id        text NOT NULL REFERENCES persons (sector_id),
    batch_id         text NOT NULL,
    row_no           integer NOT NULL,
    differences      jsonb NOT NULL,
    status           text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    resolution       text CHECK (resolution IN ('register', 'ours', 'matched_later', 'superseded')),
    resolved_by      text,
    resolved_at      timestamptz,
    resolution_note  text,
    FOREIGN KEY (batch_id, row_no) REFERENCES verification_rows (batch_id, row_no),
    CHECK ((status = 'open') = (resolved_at IS NULL))
);
CREATE UNIQUE INDEX verification_worklist_open ON verification_worklist (sector_id)
    WHERE status = 'open';
CREATE INDEX verification_worklist_sector_id ON verification_worklist (sector_id);
