"""city contact_email: the 附件3 contact's e-mail, where a city's notices are also mailed (issue 24)

Revision ID: b9e4c2a7d518
Revises: e7b2d4a91c06
Create Date: 2026-12-07 13:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = "b9e4c2a7d518"
down_revision = "e7b2d4a91c06"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("city") as batch:
        batch.add_column(sa.Column("contact_email", sa.String(length=120), nullable=False, server_default=""))


def downgrade():
    with op.batch_alter_table("city") as batch:
        batch.drop_column("contact_email")
