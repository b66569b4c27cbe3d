-- The weekly work schedule (lịch công tác) of a unit, drafted then published to its units,
-- and meeting invitations (giấy mời: an issued document) with attendance answers.
CREATE TABLE work_schedules (
    id              uuid PRIMARY KEY,
    owner_id        text NOT NULL,
    week_start      date NOT NULL CHECK (extract(isodow FROM week_start) = 1),
    title           text NOT NULL,
    state           text NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'published')),
    items           jsonb NOT NULL DEFAULT '[]',
    recipients_spec jsonb NOT NULL,
    recipient_labels text[] NOT NULL DEFAULT '{}',
    version         int NOT NULL DEFAULT 1,
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    published_at    timestamptz,
    published_by    text,
    UNIQUE (owner_id, week_start)
);

-- Who a published schedule reached (resolved from the selectors at publication).
CREATE TABLE schedule_audience (
    schedule_id     uuid NOT NULL REFERENCES work_schedules (id),
    org_id          text NOT NULL,
    PRIMARY KEY (schedule_id, org_id)
);
CREATE INDEX schedule_audience_org ON schedule_audience (org_id);

-- A giấy mời is a document (doc_type giay_moi); the meeting is its extra data.
CREATE TABLE meetings (
    document_id     uuid PRIMARY KEY REFERENCES documents (id),
    issuer_id       text NOT NULL,
    starts_at       timestamptz NOT NULL,
    ends_at         timestamptz,
    place           text NOT NULL,
    presiding       text,
    agenda          text,
    reply_by        timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE meeting_attendance (
    document_id     uuid NOT NULL REFERENCES meetings (document_id),
    org_id          text NOT NULL,
    attending       boolean NOT NULL,
    attendees       jsonb NOT NULL DEFAULT '[]',
    reason          text,
    answered_by     text NOT NULL,
    answered_at     timestamptz NOT NULL,
    PRIMARY KEY (document_id, org_id),
    CHECK (attending OR reason IS NOT NULL)
);
