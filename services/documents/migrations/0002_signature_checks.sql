-- Signatures in the workflow: the verdict of the last validation of a document's main PDF
-- (our own after signing and sealing, a received one on arrival), where the main PDF came
-- from, and the name of an issuer that is not in our organisation tree (another agency).

-- The validator's report (signing/verdict.py PdfValidation.to_json) plus when it was made;
-- NULL: never validated (a draft, or a document from before signatures were wired).
ALTER TABLE documents ADD COLUMN signature_check jsonb;
-- 'ok' | 'flagged', copied out of signature_check so the inbox can show and filter it.
ALTER TABLE documents ADD COLUMN signature_verdict text
    CHECK (signature_verdict IN ('ok', 'flagged'));
-- uploaded: the clerk's PDF; rendered: laid out by the service from the draft's fields (and
-- laid out again with the signer at signing); received: came with the document from outside.
ALTER TABLE documents ADD COLUMN pdf_source text NOT NULL DEFAULT 'uploaded'
    CHECK (pdf_source IN ('uploaded', 'rendered', 'received'));
-- The sender's name when the issuer is not a unit of org_units (edXML agency, an upload).
ALTER TABLE documents ADD COLUMN issuer_name text;
CREATE INDEX documents_flagged ON documents (id) WHERE signature_verdict = 'flagged';
