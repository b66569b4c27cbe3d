-- The e-office: outgoing documents, their files, number series, routing to recipients' inboxes,
-- the incoming registers (arrival numbers), processing history and distribution lists.

-- Decree 30 issuer abbreviation of a unit ("SGDĐT"): identity's tree has no such field.
CREATE TABLE issuer_profiles (
    org_id        text PRIMARY KEY,
    abbreviation  text NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE documents (
    id                   uuid PRIMARY KEY,
    issuer_id            text NOT NULL,
    doc_type             text NOT NULL,
    issuer_abbreviation  text NOT NULL,
    drafting_unit        text,
    summary              text NOT NULL,
    content              text,
    urgency              text CHECK (urgency IN ('khan', 'thuong_khan', 'hoa_toc')),
    secrecy              text CHECK (secrecy IN ('mat', 'toi_mat', 'tuyet_mat')),
    state                text NOT NULL DEFAULT 'draft'
                         CHECK (state IN ('draft', 'approved', 'signed', 'issued', 'replaced')),
    business_type        smallint NOT NULL DEFAULT 0 CHECK (business_type IN (0, 2, 3)),
    replaces             uuid REFERENCES documents (id),
    replaced_by          uuid REFERENCES documents (id),
    due_date             date,
    recipients_spec      jsonb NOT NULL,
    recipient_labels     text[] NOT NULL DEFAULT '{}',
    signer_name          text,
    signer_position      text,
    signer_competence    text,
    series_class         text CHECK (series_class IN ('ordinary', 'secret')),
    issue_year           integer,
    number               integer,
    notation             text,
    issued_on            date,
    issued_at            timestamptz,
    recipient_count      integer,
    recall_requested_at  timestamptz,
    created_by           text NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    approved_by          text,
    approved_at          timestamptz,
    signed_by            text,
    signed_at            timestamptz,
    issued_by            text,
    updated_at           timestamptz NOT NULL DEFAULT now(),
    -- The last line of defence against a duplicate number: the series lock prevents it first.
    CONSTRAINT documents_number_unique UNIQUE (issuer_id, series_class, issue_year, number),
    CONSTRAINT documents_issued_complete CHECK (
        state IN ('draft', 'approved', 'signed')
        OR (number IS NOT NULL AND notation IS NOT NULL AND issued_on IS NOT NULL))
);
CREATE INDEX documents_issuer ON documents (issuer_id, state, issued_on);
CREATE INDEX documents_replaces ON documents (replaces) WHERE replaces IS NOT NULL;

CREATE TABLE document_files (
    id              uuid PRIMARY KEY,
    document_id     uuid NOT NULL REFERENCES documents (id),
    role            text NOT NULL CHECK (role IN ('main', 'attachment')),
    position        integer NOT NULL,
    filename        text NOT NULL,
    content_type    text NOT NULL,
    size            integer NOT NULL,
    sha256          text NOT NULL,
    content         bytea NOT NULL,
    signed          boolean NOT NULL DEFAULT false,
    signature_note  text,
    UNIQUE (document_id, role, position)
);
CREATE UNIQUE INDEX document_files_one_main ON document_files (document_id) WHERE role = 'main';

-- One row per issuer and series class: the row is locked (FOR UPDATE) by the issuing
-- transaction, so concurrent issues take numbers one after the other.
CREATE TABLE number_series (
    issuer_id     text NOT NULL,
    series_class  text NOT NULL CHECK (series_class IN ('ordinary', 'secret')),
    year          integer NOT NULL,
    last_number   integer NOT NULL CHECK (last_number >= 1),
    PRIMARY KEY (issuer_id, series_class)
);

CREATE TABLE arrival_series (
    receiver_id   text NOT NULL,
    series_class  text NOT NULL CHECK (series_class IN ('ordinary', 'secret')),
    year          integer NOT NULL,
    last_number   integer NOT NULL CHECK (last_number >= 1),
    PRIMARY KEY (receiver_id, series_class)
);

-- A document in one recipient's inbox, with its processing status (edXML status codes).
CREATE TABLE deliveries (
    document_id           uuid NOT NULL REFERENCES documents (id),
    recipient_id          text NOT NULL,
    status                text NOT NULL
                          CHECK (status IN ('01', '02', '03', '04', '05', '06', '13', '15', '16')),
    status_before_recall  text,
    arrived_at            timestamptz NOT NULL DEFAULT now(),
    read_at               timestamptz,
    registered_at         timestamptz,
    arrival_series        text,
    arrival_year          integer,
    arrival_number        integer,
    assigned_department   text,
    assigned_person       text,
    deadline              date,
    assigned_at           timestamptz,
    assigned_by           text,
    done_at               timestamptz,
    refused_reason        text,
    reminded_at           timestamptz,
    reminder_count        integer NOT NULL DEFAULT 0,
    updated_at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (document_id, recipient_id),
    CONSTRAINT deliveries_arrival_unique
        UNIQUE (recipient_id, arrival_series, arrival_year, arrival_number)
);
CREATE INDEX deliveries_inbox ON deliveries (recipient_id, arrived_at DESC);

CREATE TABLE delivery_history (
    id               bigserial PRIMARY KEY,
    document_id      uuid NOT NULL,
    recipient_id     text NOT NULL,
    status           text NOT NULL,
    previous_status  text,
    at               timestamptz NOT NULL DEFAULT now(),
    actor            text NOT NULL,
    note             text
);
CREATE INDEX delivery_history_delivery ON delivery_history (document_id, recipient_id, id);

CREATE TABLE distribution_lists (
    id          uuid PRIMARY KEY,
    owner_id    text NOT NULL,
    name        text NOT NULL,
    members     jsonb NOT NULL,
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (owner_id, name)
);
