"""issue 22, the audit trail: hash chain, archives, and the database refusing changes to it

Revision ID: c4a1e9d27f3b
Revises: c4e1a7d25b90
Create Date: 2027-01-10 10:00:00

Each audit row gets its place (``seq``), the previous row's hash and its own (audit/chain.py);
the rows already there are sealed here in id order, with the chain key (made here if the
instance has none yet). ``audit_chain_head`` is the one row writers lock to append;
``audit_archive`` records the files ``flask audit archive`` moved rows into. Triggers then
refuse every UPDATE of an audit row, and every DELETE of a row no archive record covers, on
SQLite and PostgreSQL alike (deploy/postgres-roles.sql also keeps the application's account
from UPDATE and DELETE).
"""
from datetime import UTC
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from flask import current_app

from xkxl_intranet.audit.chain import ensure_key_file, row_hash

revision = 'c4a1e9d27f3b'
down_revision = 'c4e1a7d25b90'
branch_labels = None
depends_on = None

UPDATE_REFUSED = "audit_event rows cannot be changed"
DELETE_REFUSED = "audit_event rows can only be deleted once archived"

SQLITE_TRIGGERS = (
    f"""CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
        BEGIN SELECT RAISE(ABORT, '{UPDATE_REFUSED}'); END""",
    f"""CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
        WHEN NOT EXISTS (SELECT 1 FROM audit_archive
                         WHERE OLD.seq BETWEEN audit_archive.first_seq AND audit_archive.last_seq)
        BEGIN SELECT RAISE(ABORT, '{DELETE_REFUSED}'); END""",
)
POSTGRES_TRIGGERS = (
    f"""CREATE FUNCTION audit_event_refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '{UPDATE_REFUSED}'; END $$""",
    f"""CREATE FUNCTION audit_event_refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM audit_archive
                           WHERE OLD.seq BETWEEN audit_archive.first_seq AND audit_archive.last_seq) THEN
                RAISE EXCEPTION '{DELETE_REFUSED}';
            END IF;
            RETURN OLD;
        END $$""",
    """CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
        FOR EACH ROW EXECUTE FUNCTION audit_event_refuse_update()""",
    """CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
        FOR EACH ROW EXECUTE FUNCTION audit_event_refuse_delete()""",
)

EVENTS = sa.table(
    "audit_event", sa.column("id", sa.Integer), sa.column("at", sa.DateTime(timezone=True)),
    sa.column("user_id", sa.Integer), sa.column("username", sa.String), sa.column("ip", sa.String),
    sa.column("action", sa.String), sa.column("object_type", sa.String), sa.column("object_id", sa.String),
    sa.column("city_id", sa.Integer), sa.column("summary", sa.Text), sa.column("before", sa.JSON),
    sa.column("after", sa.JSON), sa.column("seq", sa.Integer), sa.column("prev_hash", sa.String),
    sa.column("hash", sa.String))


def _seal_existing(connection) -> tuple[int, str]:
    key = ensure_key_file(Path(current_app.config["AUDIT_KEY_FILE"]))
    seq, last = 0, ""
    rows = connection.execute(sa.select(EVENTS).order_by(EVENTS.c.id)).mappings().all()
    for row in rows:
        values = dict(row)
        at = values["at"]
        if at is not None and at.tzinfo is None:  # SQLite keeps UTC without its zone
            values["at"] = at.replace(tzinfo=UTC)
        for name in ("username", "ip", "object_type", "object_id", "summary"):
            values[name] = values[name] if values[name] is not None else ""
        seq += 1
        values["seq"] = seq
        digest = row_hash(key, values, last)
        connection.execute(sa.update(EVENTS).where(EVENTS.c.id == row["id"])
                           .values(seq=seq, prev_hash=last, hash=digest))
        last = digest
    return seq, last


def upgrade():
    with op.batch_alter_table("audit_event") as batch:
        batch.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
        batch.create_index("ix_audit_event_seq", ["seq"], unique=True)
    head = op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    op.create_table(
        "audit_archive",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_seq", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_archive")),
    )
    connection = op.get_bind()
    seq, last = _seal_existing(connection)
    op.bulk_insert(head, [{"id": 1, "seq": seq, "hash": last}])
    for statement in SQLITE_TRIGGERS if connection.dialect.name == "sqlite" else POSTGRES_TRIGGERS:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_delete ON audit_event")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_update ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS audit_event_refuse_delete()")
        op.execute("DROP FUNCTION IF EXISTS audit_event_refuse_update()")
    op.drop_table("audit_archive")
    op.drop_table("audit_chain_head")
    with op.batch_alter_table("audit_event") as batch:
        batch.drop_index("ix_audit_event_seq")
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
        batch.drop_column("seq")
