"""issue24 onboarding: a password the administrator gave opens one log-in only

Revision ID: e5b2c7d14a86
Revises: a7d3e5c19b42
Create Date: 2026-12-07 13:05:00

`user_account.password_one_time`: the current password was given by the administrator (a new
account, a reset, a credential slip) and opens one log-in only. Existing accounts still waiting
to change such a password (must_change_password) get it too, unless they have logged in since
it was set: for them nothing changes until their next log-in.
"""
import sqlalchemy as sa
from alembic import op

revision = 'e5b2c7d14a86'
down_revision = "a7d3e5c19b42"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password_one_time', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('password_one_time')
