"""user_account: drop failed_logins, written 0 and never read since issue 22 (the throttle counts
failures from the audit trail, auth/throttle.py)

Revision ID: a3c7e1f90b24
Revises: b9e4c2a7d518
Create Date: 2026-12-08 01:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = "a3c7e1f90b24"
down_revision = "b9e4c2a7d518"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("failed_logins")


def downgrade():
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
