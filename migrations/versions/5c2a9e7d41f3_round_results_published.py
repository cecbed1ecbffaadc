"""Round results published: the province's marks stay internal until then

Revision ID: 5c2a9e7d41f3
Revises: b378c88a8b0e
Create Date: 2026-11-26 15:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '5c2a9e7d41f3'
down_revision = 'b378c88a8b0e'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('round', schema=None) as batch_op:
        batch_op.add_column(sa.Column('results_published_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('results_published_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_round_results_published_by', 'user_account',
                                    ['results_published_by_id'], ['id'])


def downgrade():
    with op.batch_alter_table('round', schema=None) as batch_op:
        batch_op.drop_constraint('fk_round_results_published_by', type_='foreignkey')
        batch_op.drop_column('results_published_by_id')
        batch_op.drop_column('results_published_at')
