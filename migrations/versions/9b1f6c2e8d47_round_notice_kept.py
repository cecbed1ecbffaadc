"""round notice, notice_digest: a round keeps the notice it was opened with (issue 21)

Revision ID: 9b1f6c2e8d47
Revises: 4260b7673453
Create Date: 2026-12-10 10:00:00

The columns only: `flask init-db` fills a round that has none from the notice file shipped in the
package (batches.settings.ensure_reference_data), so that a migration never reads a file whose
place depends on how the app was installed.
"""
import sqlalchemy as sa
from alembic import op

revision = '9b1f6c2e8d47'
down_revision = '4260b7673453'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('round', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notice', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('notice_digest', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('round', schema=None) as batch_op:
        batch_op.drop_column('notice_digest')
        batch_op.drop_column('notice')
