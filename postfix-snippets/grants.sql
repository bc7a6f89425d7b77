-- Run once in mailstore_db as the tables' owner (the tutorial's testuser) or a superuser:
--   sudo -u postgres psql -d mailstore_db -f grants.sql
-- The filter only ever reads; it can change nothing, not even the keys.
CREATE ROLE pgpipe LOGIN;
GRANT SELECT ON users, aliases TO pgpipe;
