"""A second factor at log-in: each account's TOTP secret and its one-time recovery codes (issue 22)

Revision ID: c4f7a2e91d35
Revises: a4c81e5f27d9
Create Date: 2026-12-14 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'c4f7a2e91d35'
down_revision = 'a4c81e5f27d9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'user_second_factor',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('secret', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_step', sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'],
                                name='fk_user_second_factor_user_id_user_account', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_user_second_factor'),
        sa.UniqueConstraint('user_id', name='uq_user_second_factor_user_id'),
    )
    op.create_table(
        'second_factor_recovery_code',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('salt', sa.String(length=32), nullable=False),
        sa.Column('code_sha256', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'],
                                name='fk_second_factor_recovery_code_user_id_user_account', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_second_factor_recovery_code'),
    )
    op.create_index('ix_second_factor_recovery_code_user_id', 'second_factor_recovery_code', ['user_id'])


def downgrade():
    op.drop_index('ix_second_factor_recovery_code_user_id', table_name='second_factor_recovery_code')
    op.drop_table('second_factor_recovery_code')
    op.drop_table('user_second_factor')
