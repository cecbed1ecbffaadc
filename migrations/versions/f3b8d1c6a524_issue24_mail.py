"""issue 24, mail: an account's e-mail address and the outbox (mail_message)

Revision ID: f3b8d1c6a524
Revises: c4a1e9d27f3b
Create Date: 2027-01-20 10:00:00

``user_account.email`` is where notices are mailed (empty for every account at the upgrade: the
administrator or the holder fills it in). ``mail_message`` keeps one row per message and
recipient from queued to sent or failed (mail/models.py); ``reference`` names what caused it (a
notification's id) as a plain number, without a foreign key yet.
"""
import sqlalchemy as sa
from alembic import op

revision = 'f3b8d1c6a524'
down_revision = 'c4a1e9d27f3b'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=254), nullable=True))
    op.create_table(
        'mail_message',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('to_address', sa.String(length=254), nullable=False),
        sa.Column('subject', sa.String(length=255), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('reference', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_message')),
    )
    op.create_index('ix_mail_message_state_created', 'mail_message', ['state', 'created_at'], unique=False)


def downgrade():
    op.drop_index('ix_mail_message_state_created', table_name='mail_message')
    op.drop_table('mail_message')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('email')
