"""站内通知: one notice per person (issue 24)

Revision ID: e7b2d4a91c06
Revises: e5b2c7d14a86
Create Date: 2026-12-07 13:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'e7b2d4a91c06'
down_revision = "e5b2c7d14a86"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'notification',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('link_endpoint', sa.String(length=80), nullable=True),
        sa.Column('link_args', sa.JSON(), nullable=False),
        sa.Column('dedupe_key', sa.String(length=160), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'],
                                name='fk_notification_user_id_user_account', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_notification'),
        sa.UniqueConstraint('user_id', 'dedupe_key', name='uq_notification_user_id_dedupe_key'),
    )
    op.create_index('ix_notification_user_id_read_at_created_at', 'notification',
                    ['user_id', 'read_at', 'created_at'])


def downgrade():
    op.drop_index('ix_notification_user_id_read_at_created_at', table_name='notification')
    op.drop_table('notification')
