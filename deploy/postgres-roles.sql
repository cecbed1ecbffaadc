-- PostgreSQL accounts for xkxl_intranet (issue 22, 等保 安全审计: the application's account cannot
-- change or remove audit rows).
--
--   xkxl_owner  owns the database and its tables: runs `flask db upgrade` / `init-db`, and
--               `flask audit archive --expired` (xkxl-backup.service, nightly), which moves old
--               audit rows into signed files and deletes them.
--   xkxl_app    the serving processes and the worker (DATABASE_URL in /etc/xkxl/xkxl.env):
--               reads and writes the business tables, but on the audit tables only SELECT and
--               INSERT (and the chain head's one row, which it must move to append).
--
-- Once, as a superuser:
--   sudo -u postgres psql -v ON_ERROR_STOP=1 -f deploy/postgres-roles.sql xkxl
--   sudo -u postgres psql -c "ALTER ROLE xkxl_owner PASSWORD '…'" -c "ALTER ROLE xkxl_app PASSWORD '…'"
-- then migrate as xkxl_owner and run this file again (it grants on the tables that exist; run it
-- after every upgrade that adds a table). The triggers of the audit migration refuse UPDATE and
-- unarchived DELETE of audit rows for every account, the owner's included, unless it disables
-- them (which only an owner or superuser can, and which the next `flask audit verify` shows).

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'xkxl_owner') THEN
        CREATE ROLE xkxl_owner LOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'xkxl_app') THEN
        CREATE ROLE xkxl_app LOGIN;
    END IF;
END $$;

GRANT USAGE ON SCHEMA public TO xkxl_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO xkxl_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO xkxl_app;

-- The audit tables: read and append only.
REVOKE UPDATE, DELETE, TRUNCATE ON audit_event, audit_archive FROM xkxl_app;
REVOKE INSERT ON audit_archive FROM xkxl_app;
REVOKE DELETE, TRUNCATE ON audit_chain_head FROM xkxl_app;
REVOKE TRUNCATE ON ALL TABLES IN SCHEMA public FROM xkxl_app;
