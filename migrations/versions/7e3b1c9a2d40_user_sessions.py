"""User sessions on the server: log-out, lock-out and password changes end them

Revision ID: 7e3b1c9a2d40
Revises: 37cd72224d29
Create Date: 2026-11-27 09:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '7e3b1c9a2d40'
down_revision = '37cd72224d29'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'user_session',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token_sha256', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'],
                                name='fk_user_session_user_id_user_account', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_user_session'),
        sa.UniqueConstraint('token_sha256', name='uq_user_session_token_sha256'),
    )
    op.create_index('ix_user_session_user_id', 'user_session', ['user_id'])
    op.create_index('ix_user_session_created_at', 'user_session', ['created_at'])
    # The per-address log-in throttle counts recent failures by address.
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index('ix_audit_event_ip_at', ['ip', 'at'], unique=False)


def downgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_ip_at')
    op.drop_index('ix_user_session_created_at', table_name='user_session')
    op.drop_index('ix_user_session_user_id', table_name='user_session')
    op.drop_table('user_session')
