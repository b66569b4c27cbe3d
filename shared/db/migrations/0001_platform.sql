-- Tables every service gets from the platform library (shared/), before its own migrations.

-- Transactional outbox: written in the same transaction as the state change it announces.
-- Rows are kept after publishing (published_at set) for a retention period: the outbox is the
-- service's durable event log, from which `eduhub outbox replay` republishes a range.
CREATE TABLE IF NOT EXISTS outbox (
    position      bigserial PRIMARY KEY,
    event_id      uuid NOT NULL UNIQUE,
    topic         text NOT NULL,
    message_key   text NOT NULL,
    event_type    text NOT NULL,
    payload       bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz
);
-- The relay reads only unpublished rows; a partial index keeps that cheap however long the log.
CREATE INDEX IF NOT EXISTS outbox_unpublished ON outbox (position) WHERE published_at IS NULL;
CREATE INDEX IF NOT EXISTS outbox_created_at ON outbox (created_at);

-- Inbox: ids of events a consumer has applied, written in the same transaction as the effects.
CREATE TABLE IF NOT EXISTS inbox (
    consumer    text NOT NULL,
    event_id    uuid NOT NULL,
    topic       text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
CREATE INDEX IF NOT EXISTS inbox_applied_at ON inbox (applied_at);

-- Idempotency-Key: the stored answer to a POST, so a retried request gets the same answer.
CREATE TABLE IF NOT EXISTS idempotency_keys (
    principal      text NOT NULL,
    key            text NOT NULL,
    method         text NOT NULL,
    path           text NOT NULL,
    request_hash   text NOT NULL,
    status_code    integer NOT NULL,
    response_body  jsonb NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (principal, key)
);

-- Audit log of reads and changes of personal data (Law 91/2025/QH15).
CREATE TABLE IF NOT EXISTS audit_log (
    id           bigserial PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    actor        text NOT NULL,
    actor_role   text NOT NULL,
    actor_org    text NOT NULL,
    action       text NOT NULL,
    entity_kind  text NOT NULL,
    entity_id    text NOT NULL,
    detail       jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX IF NOT EXISTS audit_log_entity ON audit_log (entity_kind, entity_id, at);

-- Local copy of the organisation tree, fed by identity.org.changed (identity owns the truth).
CREATE TABLE IF NOT EXISTS org_units (
    org_id       text PRIMARY KEY,
    revision     integer NOT NULL,
    kind         text NOT NULL,
    name         text NOT NULL,
    parent_id    text,
    school_type  text,
    valid_from   date NOT NULL,
    valid_to     date,
    merged_into  text,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS org_units_parent ON org_units (parent_id);
