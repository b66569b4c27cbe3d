-- edXML exchange (component "documents-exchange", applied after the documents core's tables).
-- No foreign keys into the core's tables: the exchange keeps its own bookkeeping beside them.

-- Agencies we exchange with: names for the packages we send, learnt from packages received
-- or entered by an operator.
CREATE TABLE edxml_agencies (
    agency_code             text PRIMARY KEY,
    name                    text NOT NULL,
    organization_in_charge  text,
    updated_at              timestamptz NOT NULL DEFAULT now()
);

-- Packages registered into an incoming register. The primary key is the dedupe: a package
-- imported twice (a second poll, an upload of the same file) finds its row and registers
-- nothing; the row is written in the same transaction as the registration.
CREATE TABLE edxml_received (
    edxml_document_id  text NOT NULL,          -- OrganId,yyyy/MM/dd,Number/Notation
    recipient_id       text NOT NULL,          -- our unit whose register holds it
    document_id        uuid NOT NULL,          -- the core's document row
    sender_agency      text NOT NULL,
    number_notation    text NOT NULL,
    promulgated_on     date NOT NULL,
    business_type      smallint NOT NULL,
    package_sha256     text NOT NULL,
    source             text NOT NULL,          -- 'api' | 'poller' | 'cli'
    received_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (edxml_document_id, recipient_id)
);
CREATE UNIQUE INDEX edxml_received_document ON edxml_received (document_id, recipient_id);

-- Our outgoing documents as seen by each external agency they were sent to: the status
-- messages those agencies send back land here.
CREATE TABLE edxml_sent (
    document_id           uuid NOT NULL,
    agency_code           text NOT NULL,
    agency_name           text NOT NULL,
    edxml_document_id     text NOT NULL,
    sent_at               timestamptz NOT NULL DEFAULT now(),
    status                text CHECK (status IN ('01', '02', '03', '04', '05', '06', '13', '15', '16')),
    status_before_recall  text,
    status_at             timestamp,           -- the agency's local time, as reported
    description           text,
    updated_at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (document_id, agency_code)
);
CREATE INDEX edxml_sent_package ON edxml_sent (edxml_document_id, agency_code);

CREATE TABLE edxml_status_log (
    id               bigserial PRIMARY KEY,
    document_id      uuid NOT NULL,
    agency_code      text NOT NULL,
    status           text NOT NULL,
    previous_status  text,
    outcome          text NOT NULL CHECK (outcome IN ('applied', 'repeated', 'stale')),
    reported_at      timestamp NOT NULL,
    description      text,
    received_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX edxml_status_log_document ON edxml_status_log (document_id, agency_code, id);

-- The exchange's outbox: packages are queued in the transaction that decides to send them
-- and handed to the adapter afterwards, so a status change is never lost nor sent for a
-- change that was rolled back.
CREATE TABLE edxml_outbound (
    id          bigserial PRIMARY KEY,
    to_agency   text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('document', 'status')),
    label       text NOT NULL,
    payload     bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz,
    handle      text,
    attempts    integer NOT NULL DEFAULT 0,
    last_error  text
);
CREATE INDEX edxml_outbound_pending ON edxml_outbound (id) WHERE sent_at IS NULL;

-- Packages refused, with the reason told to the sender (also in rejected/ of a file drop).
CREATE TABLE edxml_rejections (
    id           bigserial PRIMARY KEY,
    source       text NOT NULL,
    handle       text,
    code         text NOT NULL,
    field        text NOT NULL,
    reason       text NOT NULL,
    sha256       text NOT NULL,
    rejected_at  timestamptz NOT NULL DEFAULT now()
);

-- Which processing steps of received documents (rows of the core's delivery_history) have
-- been queued as status messages to their sender. A marker per row rather than a cursor:
-- history ids are handed out before commit, so a cursor could skip a late-committing row.
CREATE TABLE edxml_status_sent (
    history_id   bigint PRIMARY KEY,
    outbound_id  bigint NOT NULL
);
