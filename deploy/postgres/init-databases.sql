-- One database per eduhub service (each service owns its database; none reads another's).
--
-- Run by the postgres image's entrypoint (psql, as POSTGRES_USER, with ON_ERROR_STOP) the
-- first time the data volume is initialised. It is idempotent, so it can also be run by hand
-- against an existing server:
--   psql "postgresql://eduhub@localhost:5432/eduhub" -f deploy/postgres/init-databases.sql
--
-- The services apply their own schema migrations at start; this script only creates the
-- empty databases. CREATE DATABASE cannot run inside a function or DO block, hence \gexec.

SELECT format('CREATE DATABASE %I', t.db)
FROM unnest(ARRAY[
    'eduhub_identity',
    'eduhub_records',
    'eduhub_analytics',
    'eduhub_documents'
]) AS t(db)
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = t.db)
\gexec

-- Only roles that are granted CONNECT explicitly (the owner, and any per-service role an
-- operator adds later) may connect: nothing reaches a service's data through PUBLIC.
REVOKE ALL ON DATABASE eduhub_identity FROM PUBLIC;
REVOKE ALL ON DATABASE eduhub_records FROM PUBLIC;
REVOKE ALL ON DATABASE eduhub_analytics FROM PUBLIC;
REVOKE ALL ON DATABASE eduhub_documents FROM PUBLIC;
