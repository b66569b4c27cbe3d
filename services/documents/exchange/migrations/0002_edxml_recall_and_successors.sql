-- Recall over the exchange: when our recall request (status 13) went to each agency, so a
-- poll sends it once per request (a later request, after a refusal, goes out again).
ALTER TABLE edxml_sent ADD COLUMN recall_sent_at timestamptz;
-- Our own 13 is logged beside what the agencies report.
ALTER TABLE edxml_status_log DROP CONSTRAINT edxml_status_log_outcome_check;
ALTER TABLE edxml_status_log ADD CONSTRAINT edxml_status_log_outcome_check
    CHECK (outcome IN ('applied', 'repeated', 'stale', 'requested'));
-- Finding the document an update or replacement follows when it names only a notation.
CREATE INDEX edxml_received_notation ON edxml_received (sender_agency, number_notation, recipient_id);
