"""Health checks in records: measurement campaigns, height, weight and eyesight, swimming.

- handlers.py: the use cases (one submission or a batch of them: the same code) and the rules
  that need the database (scope, campaign, enrolment) around the pure ones of domain/health.py;
- store.py: SQL, one function per query;
- api.py: the HTTP routes under /health.

Bulk imports of the same records go through services/records/imports (kinds `health`, `swim`).
"""
