"""通知公告: the province publishes to all cities or chosen ones with attachments; a city sees
what is addressed to it (another city's is a 404), on its home page until someone of it has
read it; the province sees per city who read it and when."""
from __future__ import annotations

import hashlib
import io
from datetime import datetime

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from xkxl_intranet import clock
from xkxl_intranet.announcements import publishing, queries, reading
from xkxl_intranet.announcements.models import Announcement, AnnouncementAttachment, AnnouncementReceipt
from xkxl_intranet.auth.models import User
from xkxl_intranet.clock import SHANGHAI
from xkxl_intranet.domain.errors import NotFound, Refused
from xkxl_intranet.extensions import db
from xkxl_intranet.files.cli import verify_storage
from xkxl_intranet.files.storage import path_for
from xkxl_intranet.rounds.models import City

from helpers import SAMPLE_PDF, audit_events

NOW = datetime(2022, 3, 1, 9, 30, tzinfo=SHANGHAI)


def _user(name: str) -> User:
    return db.session.scalar(select(User).where(User.username == name))


def _city_id(code: str) -> int:
    return db.session.scalar(select(City.id).where(City.code == code))


def _publish(app, *, title="关于报送2022年工业互联网平台的通知", body="各市（州）：\n请按时报送。\n<b>不是标签</b>",
             cities: tuple[str, ...] | None = None, files=()) -> int:
    with app.app_context():
        draft = publishing.Draft(title, body, cities is None,
                                 frozenset(_city_id(c) for c in cities or ()))
        uploads = [FileStorage(io.BytesIO(data), name) for name, data in files]
        announcement = publishing.publish(_user("province"), draft, uploads)
        db.session.commit()
        return announcement.id


# ---- operations, without a request ------------------------------------------------------------

def test_publish_to_chosen_cities_keeps_attachments_and_records_it(app):
    clock.set_now(NOW)
    announcement_id = _publish(app, cities=("510100", "510300"), files=[("通知.pdf", SAMPLE_PDF)])
    with app.app_context():
        announcement = db.session.get(Announcement, announcement_id)
        assert announcement.published_at == NOW and not announcement.all_cities
        assert announcement.city_ids == {_city_id("510100"), _city_id("510300")}
        [attachment] = announcement.attachments
        assert attachment.sha256 == hashlib.sha256(SAMPLE_PDF).hexdigest()
        assert attachment.kind == "pdf" and attachment.size == len(SAMPLE_PDF)
        assert path_for(attachment.storage_name).read_bytes() == SAMPLE_PDF
        assert publishing.addressed_city_ids(announcement) == [_city_id("510100"), _city_id("510300")]
    [event] = audit_events(app, "announcement.published")
    assert "成都市、自贡市" in event.summary and event.after["attachments"][0]["name"] == "通知.pdf"


@pytest.mark.parametrize(("draft", "field"), [
    (publishing.Draft("  ", "正文", True), "标题"),
    (publishing.Draft("题" * 121, "正文", True), "标题"),
    (publishing.Draft("标题", "正文", False), "接收市（州）"),
    (publishing.Draft("标题", "正文", False, frozenset({99999})), "接收市（州）"),
])
def test_a_refused_draft_names_its_field(app, draft, field):
    with app.app_context(), pytest.raises(Refused) as refused:
        publishing.publish(_user("province"), draft)
    assert refused.value.message.startswith(field)


def test_a_file_that_is_not_what_it_claims_refuses_the_announcement(app):
    with app.app_context():
        with pytest.raises(Refused) as refused:
            publishing.publish(_user("province"), publishing.Draft("标题", "", True),
                               [FileStorage(io.BytesIO(b"MZ\x90\x00 not a pdf"), "通知.pdf")])
        db.session.rollback()
        assert "通知.pdf" in refused.value.message
        assert db.session.scalar(select(Announcement.id)) is None


def test_only_the_province_publishes(app):
    with app.app_context(), pytest.raises(NotFound):
        publishing.publish(_user("chengdu"), publishing.Draft("标题", "", True))


def test_read_receipt_keeps_the_first_reader_of_each_city(app):
    announcement_id = _publish(app)
    with app.app_context():
        clock.set_now(NOW)
        first = reading.mark_read(_user("chengdu"), announcement_id)
        db.session.commit()
        assert first is not None and first.read_at == NOW
        assert reading.mark_read(_user("province"), announcement_id) is None  # the province reads nothing away
        db.session.commit()
        rows = db.session.scalars(select(AnnouncementReceipt)).all()
        assert [(r.city_id, r.read_by.username) for r in rows] == [(_city_id("510100"), "chengdu")]
        table = {r.city.code: r for r in queries.readings(db.session.get(Announcement, announcement_id))}
        assert len(table) == 21
        assert table["510100"].read_at == NOW and table["510100"].read_by == first.reader_name
        assert table["510700"].read_at is None
    assert len(audit_events(app, "announcement.read")) == 1


def test_another_city_neither_reads_nor_marks_it(app):
    announcement_id = _publish(app, cities=("510100",))
    with app.app_context():
        mianyang = _user("mianyang")
        with pytest.raises(NotFound):
            queries.get_announcement(mianyang, announcement_id)
        with pytest.raises(NotFound):
            reading.mark_read(mianyang, announcement_id)
        assert queries.announcements_for(mianyang) == []
        assert [a.id for a in queries.unread_for_home(_user("chengdu"))] == [announcement_id]


def test_backup_and_verify_files_count_the_attachments(app, capsys):
    _publish(app, files=[("通知.pdf", SAMPLE_PDF)])
    with app.app_context():
        assert verify_storage(grace_minutes=0) == 0  # the attachment is no orphan
        stored = db.session.scalar(select(AnnouncementAttachment))
        path_for(stored.storage_name).write_bytes(b"changed")
        assert verify_storage(grace_minutes=0) == 1
    assert "通知附件" in capsys.readouterr().out


# ---- pages ------------------------------------------------------------------------------------

def test_province_publishes_through_the_form_and_sees_read_counts(app, province_client, city_client):
    page = province_client.get("/announcements/new")
    assert page.status_code == 200 and "全部市州" in page.text and "凉山彝族自治州" in page.text
    response = province_client.post("/announcements/new", data={
        "title": "关于做好申报工作的通知", "body": "第一行\n第二行", "scope": "chosen",
        "cities": [str(_city_in(app, "510100")), str(_city_in(app, "510700"))],
        "attachments": [(io.BytesIO(SAMPLE_PDF), "通知.pdf")]}, content_type="multipart/form-data")
    assert response.status_code == 303
    detail_url = response.headers["Location"]
    listing = province_client.get("/announcements/")
    assert "关于做好申报工作的通知" in listing.text and "已阅 0/2" in listing.text
    city_client.get(detail_url)
    assert "已阅 1/2" in province_client.get("/announcements/").text
    detail = province_client.get(detail_url)
    assert "成都市" in detail.text and "绵阳市" in detail.text and "未阅" in detail.text


def _city_in(app, code: str) -> int:
    with app.app_context():
        return _city_id(code)


def test_a_refused_form_keeps_what_was_typed(app, province_client):
    response = province_client.post("/announcements/new", data={
        "title": "保留的标题", "body": "保留的正文", "scope": "chosen"})
    assert response.status_code == 422
    assert "接收市（州）：请选择" in response.text
    assert 'value="保留的标题"' in response.text and "保留的正文" in response.text
    with app.app_context():
        assert db.session.scalar(select(Announcement.id)) is None


def test_home_page_shows_it_until_someone_of_the_city_reads_it(app, city_client):
    announcement_id = _publish(app, title="请核对联系人")
    assert "请核对联系人" in city_client.get("/").text
    second_clerk = city_client  # the detail page is reading it
    page = second_clerk.get(f"/announcements/{announcement_id}")
    assert page.status_code == 200
    assert "各市（州）：\n请按时报送。" in page.text and "&lt;b&gt;不是标签&lt;/b&gt;" in page.text
    home = city_client.get("/").text
    assert 'id="home-announcements"' not in home
    assert "home-notices" not in home or "is-unread" not in home  # its notice is read too
    assert "已阅" in city_client.get("/announcements/").text


def unread_announcements(home: str) -> str:
    """The home page's block of unread announcements (its notices are listed apart)."""
    start = home.find('id="home-announcements"')
    return "" if start < 0 else home[start:home.index("</section>", start)]


def test_the_read_button_works_without_javascript_and_with_htmx(app, city_client, other_city_client):
    first = _publish(app, title="第一份通知")
    second = _publish(app, title="第二份通知")
    response = city_client.post(f"/announcements/{first}/read", data={"next": "/"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/")
    home = unread_announcements(city_client.get("/").text)
    assert "第一份通知" not in home and "第二份通知" in home
    fragment = city_client.post(f"/announcements/{second}/read", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and fragment.text == ""
    assert "第二份通知" not in unread_announcements(city_client.get("/").text)
    assert "第一份通知" in unread_announcements(other_city_client.get("/").text)  # another city has not read it


def test_another_citys_announcement_and_attachment_are_404(app, city_client, other_city_client):
    announcement_id = _publish(app, cities=("510100",), files=[("通知.pdf", SAMPLE_PDF)])
    with app.app_context():
        attachment_id = db.session.scalar(select(AnnouncementAttachment.id))
    url = f"/announcements/{announcement_id}/files/{attachment_id}"
    assert other_city_client.get(f"/announcements/{announcement_id}").status_code == 404
    assert other_city_client.get(url).status_code == 404
    assert other_city_client.post(f"/announcements/{announcement_id}/read").status_code == 404
    listing = other_city_client.get("/announcements/").text
    assert "关于报送2022年工业互联网平台的通知" not in listing and "暂无通知公告" in listing
    download = city_client.get(url)
    assert download.status_code == 200 and download.data == SAMPLE_PDF
    assert "filename*=UTF-8''%E9%80%9A%E7%9F%A5.pdf" in download.headers["Content-Disposition"]
    assert f'filename="announcement-{announcement_id}-attachment-{attachment_id}.pdf"' in download.headers["Content-Disposition"]
    assert len(audit_events(app, "download.announcement_file")) == 1


def test_only_province_and_cities_open_the_pages(app, city_client, viewer_client, expert_client):
    assert city_client.get("/announcements/new").status_code == 404
    assert viewer_client.get("/announcements/").status_code == 404
    assert expert_client.get("/announcements/").status_code == 404
    assert 'href="/announcements/"' in city_client.get("/").text  # 通知公告 in the navigation


def test_the_list_serves_page_and_fragment(app, province_client):
    _publish(app, title="片段中的通知")
    fragment = province_client.get("/announcements/", headers={"HX-Request": "true"})
    assert "片段中的通知" in fragment.text and "<html" not in fragment.text
    assert "HX-Request" in fragment.headers["Vary"]
