"""receipt paper_summary_follows: the clerk chose 纸质版另行报送

Reported without a current stamped 附件3 scan, the stamped paper copy to follow. NULL on the
receipts made before the choice was kept.

Revision ID: 828fd2a92a9b
Revises: 1784bda65cf5
Create Date: 2026-12-07 04:10:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '828fd2a92a9b'
down_revision = '1784bda65cf5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('receipt', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paper_summary_follows', sa.Boolean(), nullable=True))


def downgrade():
    with op.batch_alter_table('receipt', schema=None) as batch_op:
        batch_op.drop_column('paper_summary_follows')
