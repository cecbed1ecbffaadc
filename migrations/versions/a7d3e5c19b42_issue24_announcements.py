"""issue 24, 通知公告: announcements, the cities they are addressed to, their attachments and
each city's read receipt

Revision ID: a7d3e5c19b42
Revises: f3b8d1c6a524
Create Date: 2027-02-01 10:00:00

New tables only (no batch alter needed on SQLite). Attachments keep their bytes in the file
storage like every upload; their rows are read by backups and ``verify-files`` through
``files/owners.py``.
"""
import sqlalchemy as sa
from alembic import op

revision = 'a7d3e5c19b42'
down_revision = "f3b8d1c6a524"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "announcement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("all_cities", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["user_account.id"], name=op.f("fk_announcement_created_by_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcement")),
    )
    op.create_index(op.f("ix_announcement_published_at"), "announcement", ["published_at"])
    op.create_table(
        "announcement_city",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("announcement_id", sa.Integer(), nullable=False),
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["announcement_id"], ["announcement.id"], ondelete="CASCADE",
                                name=op.f("fk_announcement_city_announcement_id_announcement")),
        sa.ForeignKeyConstraint(["city_id"], ["city.id"], name=op.f("fk_announcement_city_city_id_city")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcement_city")),
        sa.UniqueConstraint("announcement_id", "city_id", name="uq_announcement_city"),
    )
    op.create_index(op.f("ix_announcement_city_city_id"), "announcement_city", ["city_id"])
    op.create_table(
        "announcement_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("announcement_id", sa.Integer(), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=False),
        sa.Column("storage_name", sa.String(length=32), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("mime", sa.String(length=120), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["announcement_id"], ["announcement.id"], ondelete="CASCADE",
                                name=op.f("fk_announcement_attachment_announcement_id_announcement")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcement_attachment")),
        sa.UniqueConstraint("storage_name", name=op.f("uq_announcement_attachment_storage_name")),
    )
    op.create_index(op.f("ix_announcement_attachment_announcement_id"), "announcement_attachment",
                    ["announcement_id"])
    op.create_table(
        "announcement_receipt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("announcement_id", sa.Integer(), nullable=False),
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("read_by_id", sa.Integer(), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["announcement_id"], ["announcement.id"], ondelete="CASCADE",
                                name=op.f("fk_announcement_receipt_announcement_id_announcement")),
        sa.ForeignKeyConstraint(["city_id"], ["city.id"], name=op.f("fk_announcement_receipt_city_id_city")),
        sa.ForeignKeyConstraint(["read_by_id"], ["user_account.id"],
                                name=op.f("fk_announcement_receipt_read_by_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcement_receipt")),
        sa.UniqueConstraint("announcement_id", "city_id", name="uq_announcement_receipt"),
    )
    op.create_index(op.f("ix_announcement_receipt_city_id"), "announcement_receipt", ["city_id"])


def downgrade():
    op.drop_table("announcement_receipt")
    op.drop_table("announcement_attachment")
    op.drop_table("announcement_city")
    op.drop_table("announcement")
