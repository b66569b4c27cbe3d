"""Digital signatures of official documents: PAdES signing with pyHanko, and validation.

Library code the documents service calls; no database, no HTTP:
- config: SigningSettings (DOCUMENTS_* variables) and load_signing_kit (PKCS#12, PKCS#11, or
  the local stack's test PKI from local_pki);
- sign: sign_as_person, then seal_as_organisation (two incremental PAdES signatures with
  visible appearances; sign_pdf for any other field);
- validate: validate_pdf / validate_pdf_async, a PdfValidation with a verdict per signature
  and for the document (verdict.py holds the rules, free of IO).
"""
