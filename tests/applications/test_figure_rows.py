"""An application's figures are kept twice: in its document of declared values and a row each in
application_figure (what the comparison and the roster read). Every write keeps the two equal,
writing only the rows that change; a deleted application takes its rows with it."""
from __future__ import annotations

from xkxl_intranet.applications.models import Application, ApplicationFigure
from xkxl_intranet.domain.indicators import NUMERIC_KINDS
from xkxl_intranet.extensions import db

from helpers import application_values, create_application, get_application


def _rows(app, application_id: int) -> dict:
    with app.app_context():
        return dict(db.session.execute(db.select(ApplicationFigure.key, ApplicationFigure.value)
                                       .where(ApplicationFigure.application_id == application_id)).all())


def _figures(app, application_id: int) -> dict:
    with app.app_context():
        application = db.session.get(Application, application_id)
        fields = application.round.form.fields
        return {k: v for k, v in application.values().items() if fields[k].kind in NUMERIC_KINDS and v is not None}


def test_the_figure_rows_follow_every_save(app, city_client):
    application_id = create_application(app, with_form=False)
    assert _rows(app, application_id) == _figures(app, application_id) != {}
    application = get_application(app, application_id)
    values = application_values(enterprise_name=application.enterprise_name, credit_code=application.credit_code,
                                platform_name=application.platform_name, version=str(application.version),
                                employees="4321", patents="")
    assert city_client.post(f"/applications/{application_id}/edit", data=values).status_code == 303
    rows = _rows(app, application_id)
    assert rows == _figures(app, application_id)
    assert rows["employees"] == 4321 and "patents" not in rows

    assert city_client.post(f"/applications/{application_id}/delete").status_code == 303
    assert _rows(app, application_id) == {}
