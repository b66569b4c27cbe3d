-- Reports the Department builds and sends to units (e.g. non-swimmers per class for a
-- commune): the file itself, kept so the addressee can download it when
-- analytics.report.ready reaches them. `org_id` is the unit it is addressed to (scope checks).
CREATE TABLE reports (
    report_id   uuid PRIMARY KEY,
    kind        text NOT NULL,
    org_id      text NOT NULL,
    params      jsonb NOT NULL,
    content     bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text NOT NULL
);
CREATE INDEX reports_org ON reports (org_id, created_at);
