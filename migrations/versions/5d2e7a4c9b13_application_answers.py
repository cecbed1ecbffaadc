"""application_answers: the declared fields' values in one JSON document per application (issue 21)

Revision ID: 5d2e7a4c9b13
Revises: 9b1f6c2e8d47
Create Date: 2026-12-07 10:00:00

Each declared field of 2022's 申报书 had a column; a round's notice now declares its own fields, so
their values move into one document per application, `application_answers.document` (a table of its
own, so that the application table that lists and searches scan stays narrow; domain/answers.py:
money and percent figures as exact text, dates as ISO text, choices as lists), except the five the
system names applications by (enterprise_name, platform_name, credit_code, contact_name,
contact_mobile), which stay columns of the application. The figures (int, money, percent) are also
kept a row each in `application_figure` (hundredths, as the columns had them), for the pages that
sort or total one figure across the round.

The columns this migration moves are written down below as they were (key, kind, text length),
not read from the app's declarations, which change with the notices: a migration moves what the
schema was.
"""
import datetime
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision = '5d2e7a4c9b13'
down_revision = '9b1f6c2e8d47'
branch_labels = None
depends_on = None

# (key, kind, length of a text column) of every 2022 field that had a column of its own.
MOVED = (
    ('founded_on', 'date', 200),
    ('address', 'text', 200),
    ('contact_title', 'text', 50),
    ('contact_phone', 'phone', 50),
    ('contact_fax', 'phone', 50),
    ('contact_email', 'email', 254),
    ('total_assets', 'money', 200),
    ('debt_ratio', 'percent', 200),
    ('credit_rating', 'text', 20),
    ('sales_last_year', 'money', 200),
    ('tax_last_year', 'money', 200),
    ('profit_last_year', 'money', 200),
    ('builder', 'text', 200),
    ('built_on', 'date', 200),
    ('investment', 'money', 200),
    ('build_mode', 'choice', 200),
    ('build_partner', 'text', 200),
    ('iaas_mode', 'choice', 200),
    ('iaas_provider', 'text', 200),
    ('devices_total', 'int', 200),
    ('devices_operating', 'int', 200),
    ('devices_processing', 'int', 200),
    ('devices_mobile', 'int', 200),
    ('devices_other', 'int', 200),
    ('devices_public_cloud', 'int', 200),
    ('devices_private_cloud', 'int', 200),
    ('devices_daily_active_public', 'int', 200),
    ('protocols', 'int', 200),
    ('models_total', 'int', 200),
    ('models_rd_sim', 'int', 200),
    ('models_process', 'int', 200),
    ('models_mechanism', 'int', 200),
    ('models_algorithm', 'int', 200),
    ('apps_total', 'int', 200),
    ('apps_self', 'int', 200),
    ('apps_partner', 'int', 200),
    ('apps_platform_built', 'int', 200),
    ('apps_cloudified', 'int', 200),
    ('apps_safety', 'int', 200),
    ('apps_energy', 'int', 200),
    ('apps_quality', 'int', 200),
    ('apps_supply', 'int', 200),
    ('apps_rnd', 'int', 200),
    ('apps_production', 'int', 200),
    ('apps_operation', 'int', 200),
    ('apps_logistics', 'int', 200),
    ('apps_maintenance', 'int', 200),
    ('apps_monthly_active', 'int', 200),
    ('users_registered', 'int', 200),
    ('users_industrial', 'int', 200),
    ('users_paying', 'int', 200),
    ('developers_registered', 'int', 200),
    ('developers_active', 'int', 200),
    ('patents', 'int', 200),
    ('software_copyrights', 'int', 200),
    ('sec_device_access', 'bool', 200),
    ('sec_data', 'bool', 200),
    ('sec_code', 'bool', 200),
    ('sec_application', 'bool', 200),
    ('sec_access', 'bool', 200),
    ('killer_cross_platform', 'bool', 200),
    ('killer_daily_calls', 'int', 200),
    ('killer_monthly_revenue', 'money', 200),
    ('killer_awards', 'int', 200),
    ('industries_covered', 'int', 200),
    ('domains_covered', 'int', 200),
    ('solutions', 'int', 200),
    ('technologies', 'multi', 200),
    ('parks_served', 'int', 200),
    ('parks_national', 'int', 200),
    ('parks_provincial', 'int', 200),
    ('cases_ministry', 'int', 200),
    ('cases_provincial', 'int', 200),
    ('sme_served', 'int', 200),
    ('sme_contract_amount', 'money', 200),
    ('honors_stability', 'int', 200),
    ('region_honors', 'int', 200),
    ('dual_solutions', 'int', 200),
    ('dual_industries', 'int', 200),
    ('dual_domains', 'int', 200),
    ('std_national', 'int', 200),
    ('std_national_led', 'int', 200),
    ('std_industry', 'int', 200),
    ('std_industry_led', 'int', 200),
    ('std_international', 'int', 200),
    ('std_international_led', 'int', 200),
    ('revenue_3y', 'money', 200),
    ('revenue_2021', 'money', 200),
    ('cost_3y', 'money', 200),
    ('cost_2021', 'money', 200),
    ('roi', 'percent', 200),
    ('listed_or_vc', 'bool', 200),
    ('rnd_2020', 'money', 200),
    ('rnd_2021', 'money', 200),
    ('rnd_ratio_2020', 'percent', 200),
    ('rnd_ratio_2021', 'percent', 200),
    ('employees', 'int', 200),
)
_CENT = Decimal("0.01")
_FIGURES = ("int", "money", "percent")
_BATCH = 500


def _column_type(kind, length):
    if kind == "int":
        return sa.BigInteger()
    if kind in ("money", "percent"):
        return sa.BigInteger()  # hundredths (sqltypes.ExactDecimal)
    if kind == "date":
        return sa.Date()
    if kind == "bool":
        return sa.Boolean()
    if kind == "multi":
        return sa.JSON()
    return sa.String(length)


def _to_answer(kind, value):
    if value is None:
        return None
    if kind in ("money", "percent"):
        return format(Decimal(int(value)).scaleb(-2).quantize(_CENT), "f")
    if kind == "int":
        return int(value)
    if kind == "bool":
        return bool(value)
    if kind == "date":
        return value.isoformat() if hasattr(value, "isoformat") else str(value)
    if kind == "multi":
        return [str(v) for v in value]
    return str(value)


def _from_answer(kind, stored):
    if stored is None:
        return None
    if kind in ("money", "percent"):
        return int(Decimal(stored).scaleb(2))
    if kind == "date":

        return datetime.date.fromisoformat(stored)
    return stored


def _table():
    return sa.table("application", sa.column("id", sa.Integer()),
                    *[sa.column(key, _column_type(kind, length)) for key, kind, length in MOVED])


def upgrade():
    op.create_table(
        "application_answers",
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["application_id"], ["application.id"], name=op.f("fk_application_answers_application_id_application"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("application_id", name=op.f("pk_application_answers")),
    )
    op.create_table(
        "application_figure",
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["application_id"], ["application.id"],
                                name=op.f("fk_application_figure_application_id_application"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("application_id", "key", name=op.f("pk_application_figure")),
    )
    bind = op.get_bind()
    table = _table()
    answers = sa.table("application_answers", sa.column("application_id", sa.Integer()),
                       sa.column("document", sa.JSON()))
    figure = sa.table("application_figure", sa.column("application_id", sa.Integer()), sa.column("key", sa.String()),
                      sa.column("value", sa.BigInteger()))
    last = 0
    while True:
        rows = bind.execute(sa.select(table).where(table.c.id > last).order_by(table.c.id).limit(_BATCH)).all()
        if not rows:
            break
        documents, figures = [], []
        for row in rows:
            document = {}
            for key, kind, _length in MOVED:
                value = _to_answer(kind, row._mapping[key])
                if value is not None:
                    document[key] = value
                if row._mapping[key] is not None and kind in _FIGURES:  # hundredths, as ExactDecimal keeps them
                    scale = 100 if kind == "int" else 1
                    figures.append({"application_id": row.id, "key": key, "value": int(row._mapping[key]) * scale})
            documents.append({"application_id": row.id, "document": document})
        bind.execute(answers.insert(), documents)
        if figures:
            bind.execute(figure.insert(), figures)
        last = rows[-1].id
    with op.batch_alter_table("application", schema=None) as batch_op:
        for key, _kind, _length in MOVED:
            batch_op.drop_column(key)


def downgrade():
    with op.batch_alter_table("application", schema=None) as batch_op:
        for key, kind, length in MOVED:
            batch_op.add_column(sa.Column(key, _column_type(kind, length), nullable=True))
    bind = op.get_bind()
    table = _table()
    answers = sa.table("application_answers", sa.column("application_id", sa.Integer()),
                       sa.column("document", sa.JSON()))
    for row in bind.execute(sa.select(answers.c.application_id, answers.c.document)).all():
        document = row.document or {}
        values = {key: _from_answer(kind, document.get(key)) for key, kind, _length in MOVED}
        bind.execute(table.update().where(table.c.id == row.application_id).values(**values))
    op.drop_table("application_figure")
    op.drop_table("application_answers")
