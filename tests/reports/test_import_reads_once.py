"""An import reads each cell once, when the file arrives: the preview, the changes it lists and
the confirmed save take the values as read then (issue 26)."""
from collections import Counter

from xkxl_intranet.domain.indicators import FIELDS

from .helpers import as_bytes, confirm, problems, row_of, template, upload
from helpers import count_parses, create_application, get_application


def test_an_import_reads_each_cell_once_when_the_file_arrives(app, city_client, monkeypatch):
    application_id = create_application(app)
    wb = template(city_client, filled=True)
    ws = wb["指标"]
    ws[f"F{row_of(ws, 'contact_title')}"] = "副总经理"
    calls = count_parses(monkeypatch)
    page = upload(city_client, as_bytes(wb)).get_data(as_text=True)
    assert '<span class="tag">更新</span>' in page, problems(page)  # the one change is found
    # every field of the round's 申报书 read once (运用技术: the choices of its 是/否 rows together)
    assert calls == Counter({key: 1 for key in FIELDS})
    calls.clear()
    confirm(city_client)
    assert get_application(app, application_id).values()["contact_title"] == "副总经理"
    assert not calls
