-- Report requests: the issuer asks units for a report (a form or a file) by a deadline; each
-- unit's latest submission is kept (a resubmission replaces it). The request is issued as a
-- công văn (document_id), so its targets are exactly that document's recipients.
CREATE TABLE report_requests (
    id              uuid PRIMARY KEY,
    issuer_id       text NOT NULL,
    document_id     uuid NOT NULL UNIQUE REFERENCES documents (id),
    title           text NOT NULL,
    instructions    text,
    response_kind   text NOT NULL CHECK (response_kind IN ('form', 'file')),
    form_fields     jsonb NOT NULL DEFAULT '[]',
    deadline        timestamptz NOT NULL,
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX report_requests_issuer ON report_requests (issuer_id, created_at DESC);

-- One row per unit asked; reminders are counted here (missing units only).
CREATE TABLE report_targets (
    request_id      uuid NOT NULL REFERENCES report_requests (id),
    org_id          text NOT NULL,
    reminded_at     timestamptz,
    reminder_count  int NOT NULL DEFAULT 0,
    PRIMARY KEY (request_id, org_id)
);
CREATE INDEX report_targets_org ON report_targets (org_id);

-- The unit's current answer: form values or one file (bytes kept in PostgreSQL, like
-- document files, bounded by DOCUMENTS_MAX_ATTACHMENT_BYTES).
CREATE TABLE report_submissions (
    request_id      uuid NOT NULL,
    org_id          text NOT NULL,
    version         int NOT NULL DEFAULT 1,
    late            boolean NOT NULL,
    form_values     jsonb,
    filename        text,
    content_type    text,
    size            int,
    sha256          text,
    content         bytea,
    submitted_by    text NOT NULL,
    submitted_at    timestamptz NOT NULL,
    first_submitted_at timestamptz NOT NULL,
    PRIMARY KEY (request_id, org_id),
    FOREIGN KEY (request_id, org_id) REFERENCES report_targets (request_id, org_id),
    CHECK ((form_values IS NULL) <> (content IS NULL))
);

-- analytics.report.ready turned into an outgoing draft, once per report (idempotent by id).
-- The workbook stays on the analytics service until a clerk attaches it (attached_file_id).
CREATE TABLE analytics_report_drafts (
    report_id       uuid PRIMARY KEY,
    kind            text NOT NULL,
    title           text NOT NULL,
    org_id          text NOT NULL,
    campaign_id     text,
    download_path   text NOT NULL,
    report_created_at timestamptz NOT NULL,
    document_id     uuid REFERENCES documents (id),
    skipped_reason  text,
    attached_file_id uuid,
    received_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((document_id IS NULL) <> (skipped_reason IS NULL))
);
CREATE INDEX analytics_report_drafts_document ON analytics_report_drafts (document_id);
