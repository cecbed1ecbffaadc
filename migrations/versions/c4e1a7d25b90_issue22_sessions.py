"""user_session last_seen_at, address, user_agent: each person lists and ends their sessions (issue 22)

Revision ID: c4e1a7d25b90
Revises: c4f7a2e91d35
Create Date: 2026-12-07 12:00:00

A session's last activity (kept to the minute) ends it on the server after the idle limit, picks
the one to end when a log-in passes the account's limit of sessions, and is shown on 我的账号
with the address and browser it logged in from. A session open at the upgrade counts as active
since its log-in.
"""
import sqlalchemy as sa
from alembic import op

revision = 'c4e1a7d25b90'
down_revision = 'c4f7a2e91d35'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('address', sa.String(length=45), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('user_agent', sa.String(length=255), nullable=False, server_default=''))
    session = sa.table('user_session', sa.column('created_at', sa.DateTime(timezone=True)),
                       sa.column('last_seen_at', sa.DateTime(timezone=True)))
    op.get_bind().execute(session.update().values(last_seen_at=session.c.created_at))
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.alter_column('last_seen_at', existing_type=sa.DateTime(timezone=True), nullable=False)


def downgrade():
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.drop_column('user_agent')
        batch_op.drop_column('address')
        batch_op.drop_column('last_seen_at')
