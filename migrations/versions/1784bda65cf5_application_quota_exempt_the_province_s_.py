"""application quota_exempt: the province's flag 「2020年已获评，不占名额」 (the ministry's quota)

Revision ID: 1784bda65cf5
Revises: 44824a68f2cf
Create Date: 2026-12-06 19:50:56.905936

"""
import sqlalchemy as sa
from alembic import op

revision = '1784bda65cf5'
down_revision = '44824a68f2cf'
branch_labels = None
depends_on = None


def upgrade():
    # sa.false(), not '0': PostgreSQL refuses an integer default on a boolean column.
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.add_column(sa.Column('quota_exempt', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.drop_column('quota_exempt')
