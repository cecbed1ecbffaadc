"""issue22 passwords: when each password was set (expiry) and the hashes of the last five chosen

Revision ID: c4a81f2e6b90
Revises: 5d2e7a4c9b13
Create Date: 2026-12-07 12:00:00

`user_account.password_changed_at`: every existing account gets the moment of the upgrade, so
that nobody is locked out by it: their passwords expire PASSWORD_MAX_AGE_DAYS after the upgrade.
`password_history`: starts with each account's current hash, unless that is a one-time password
still to be changed (must_change_password), which the history does not keep
(auth/password_history.py).
"""
import datetime

import sqlalchemy as sa
from alembic import op

revision = 'c4a81f2e6b90'
down_revision = '5d2e7a4c9b13'
branch_labels = None
depends_on = None


def _utc_now(bind):
    moment = datetime.datetime.now(datetime.UTC)
    return moment.replace(tzinfo=None) if bind.dialect.name == 'sqlite' else moment  # as sqltypes.AwareDateTime stores it


def upgrade():
    bind = op.get_bind()
    moment = _utc_now(bind)
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password_changed_at', sa.DateTime(timezone=True), nullable=True))
    users = sa.table('user_account', sa.column('id', sa.Integer()), sa.column('password_hash', sa.String()),
                     sa.column('must_change_password', sa.Boolean()),
                     sa.column('password_changed_at', sa.DateTime(timezone=True)))
    bind.execute(users.update().values(password_changed_at=moment))
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.alter_column('password_changed_at', existing_type=sa.DateTime(timezone=True), nullable=False)

    op.create_table(
        'password_history',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('password_hash', sa.String(length=255), nullable=False),
        sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'],
                                name='fk_password_history_user_id_user_account', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_password_history'),
    )
    op.create_index('ix_password_history_user_id', 'password_history', ['user_id'])
    history = sa.table('password_history', sa.column('user_id', sa.Integer()),
                       sa.column('password_hash', sa.String()), sa.column('set_at', sa.DateTime(timezone=True)))
    chosen = bind.execute(sa.select(users.c.id, users.c.password_hash)
                          .where(users.c.must_change_password == sa.false()).order_by(users.c.id)).all()
    if chosen:
        bind.execute(history.insert(), [{'user_id': row.id, 'password_hash': row.password_hash, 'set_at': moment}
                                        for row in chosen])


def downgrade():
    op.drop_index('ix_password_history_user_id', table_name='password_history')
    op.drop_table('password_history')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('password_changed_at')
