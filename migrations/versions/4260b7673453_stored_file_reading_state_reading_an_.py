"""stored_file reading_state: reading an uploaded 申报书 is a job, and the row says where it stands

Revision ID: 4260b7673453
Revises: 828fd2a92a9b
Create Date: 2026-12-06 20:31:08.744226

"""
import sqlalchemy as sa
from alembic import op

revision = '4260b7673453'
down_revision = '828fd2a92a9b'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('stored_file', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reading_state', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('reading_requested_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reading_claimed_by', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('reading_claimed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reading_attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_index(batch_op.f('ix_stored_file_reading_state'), ['reading_state'], unique=False)
    # What was read on upload before this is done; a 申报书 uploaded before reading existed stays
    # without a state (flask read-forms reads it).
    # (A form's reading is a JSON object or SQL NULL; other files may hold JSON null, never read.)
    op.execute("UPDATE stored_file SET reading_state = 'done' WHERE category = 'form' AND reading IS NOT NULL")


def downgrade():
    with op.batch_alter_table('stored_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stored_file_reading_state'))
        batch_op.drop_column('reading_attempts')
        batch_op.drop_column('reading_claimed_at')
        batch_op.drop_column('reading_claimed_by')
        batch_op.drop_column('reading_requested_at')
        batch_op.drop_column('reading_state')
