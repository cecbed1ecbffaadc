"""Uploading: accepted by content, refused clearly, nothing lost, names kept, scoped by city."""
import io
import json
from datetime import timedelta
from urllib.parse import quote

import pytest
from werkzeug.datastructures import FileStorage

from xkxl_intranet.applications.materials import store_file
from xkxl_intranet.applications.models import Application
from xkxl_intranet.extensions import db
from xkxl_intranet.files.categories import FORM
from xkxl_intranet.files.models import StoredFile
from xkxl_intranet.files.queries import application_files, missing_requirements

from .conftest import (
    DOCX,
    EXE,
    HTML,
    PNG,
    XLSX,
    events,
    files_on_disk,
    make_application,
    pdf,
    sha,
    storage_path,
    stored_files,
    upload,
)
from helpers import user_by_name


def test_clerk_uploads_the_form_and_it_is_kept_by_content(app, city_client, application_id):
    data = pdf("v1")
    response = upload(city_client, application_id, "form", ("申报书（盖章版）.pdf", data))
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/files/applications/{application_id}")
    [row] = stored_files(app)
    assert (row.category, row.original_name, row.kind, row.mime) == (
        "form", "申报书（盖章版）.pdf", "pdf", "application/pdf")
    assert row.size == len(data) and row.sha256 == sha(data)
    assert row.application_id == application_id and row.superseded_at is None
    path = storage_path(app, row)
    assert path.read_bytes() == data
    assert "申报书" not in str(path) and len(row.storage_name) == 32
    assert files_on_disk(app) == [path]  # nothing left in uploads/tmp
    [event] = events(app, "file.uploaded")
    assert event.object_type == "file" and event.object_id == str(row.id)
    assert event.city_id == row.city_id and event.after["sha256"] == row.sha256
    assert "申报书（盖章版）.pdf" in event.summary
    page = city_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已上传申报书“申报书（盖章版）.pdf”" in page and row.sha256 in page


def test_htmx_upload_returns_the_category_box_with_a_trigger(app, city_client, application_id):
    response = upload(city_client, application_id, "evidence1", ("设备清单.xlsx", XLSX), htmx=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'id="files-{application_id}-evidence1"' in html
    assert "设备清单.xlsx" in html and sha(XLSX) in html
    assert "<html" not in html  # a fragment
    assert f'id="file-requirements-{application_id}" hx-swap-oob="true"' in html
    trigger = json.loads(response.headers["HX-Trigger"])
    assert trigger["files-changed"]["category"] == "evidence1"


REFUSED = [
    pytest.param("申报书.pdf", EXE, "可执行程序", "executable", id="renamed-exe"),
    pytest.param("setup.exe", EXE, "可执行程序", "executable", id="exe"),
    pytest.param("申报书.pdf", HTML, "网页或脚本", "markup", id="html-as-pdf"),
    pytest.param("index.html", HTML, "格式不受支持", "extension", id="html"),
    pytest.param("申报书.pdf", b"", "空文件", "empty", id="empty"),
    pytest.param("申报书.docx", PNG, "内容不是Word（DOCX）文件", "mismatch", id="png-as-docx"),
    pytest.param("申报书.pdf", DOCX, "内容不是PDF文件", "mismatch", id="docx-as-pdf"),
    pytest.param("申报书.xlsx", XLSX, "格式不受支持", "extension", id="xlsx-not-a-form"),
    pytest.param("申报书", pdf(), "没有扩展名", "no_extension", id="no-extension"),
]


@pytest.mark.parametrize("name, content, message, reason", REFUSED)
def test_refused_files_get_a_clear_message_and_nothing_saved_is_lost(
        app, city_client, application_id, name, content, message, reason):
    kept = pdf("kept")
    upload(city_client, application_id, "form", ("原申报书.pdf", kept))
    [before] = stored_files(app)

    response = upload(city_client, application_id, "form", (name, content), htmx=True)
    assert response.status_code == 422  # the box again, with the message; never read as a success
    assert response.headers["X-Upload-Refused"] == "1"  # files.js swaps it in like a 200
    [refused] = events(app, "file.upload_refused")
    assert refused.username == "chengdu" and refused.after == {
        "category": "form", "name": name, "size": len(content), "reason": reason}
    html = response.get_data(as_text=True)
    assert message in html and "msg-error" in html
    assert "HX-Trigger" not in response.headers
    [after] = stored_files(app)
    assert after.id == before.id and after.superseded_at is None
    assert storage_path(app, after).read_bytes() == kept
    assert files_on_disk(app) == [storage_path(app, after)]
    assert len(events(app, "file.uploaded")) == 1


def test_refusal_without_htmx_answers_the_page_again_with_the_message(app, city_client, application_id):
    response = upload(city_client, application_id, "form", ("申报书.pdf", EXE))
    assert response.status_code == 422  # not a 303 the log would read as 上传成功
    page = response.get_data(as_text=True)
    assert "<html" in page and f'id="files-{application_id}-form"' in page
    assert "文件“申报书.pdf”是可执行程序，不允许上传" in page
    assert stored_files(app) == []


def test_a_refusal_is_logged_with_its_reason_and_audited_with_name_and_size(
        app, city_client, application_id, caplog):
    with caplog.at_level("INFO", logger="xkxl_intranet.requests"):
        upload(city_client, application_id, "form", ("营业执照.pdf", EXE), htmx=True)
    line = [r.getMessage() for r in caplog.records if r.name == "xkxl_intranet.requests"][-1]
    assert "route=files.upload" in line and " status=422 " in line and line.endswith(" reason=executable")
    [row] = events(app, "file.upload_refused")
    assert (row.username, row.object_id) == ("chengdu", str(application_id))
    assert row.after == {"category": "form", "name": "营业执照.pdf", "size": len(EXE), "reason": "executable"}


def test_no_file_chosen(app, city_client, application_id):
    response = city_client.post(f"/files/applications/{application_id}/form/upload",
                                data={}, headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert "请选择要上传的文件（申报书）" in response.get_data(as_text=True)


@pytest.mark.parametrize("raw, shown", [
    ("../../../etc/passwd.pdf", "passwd.pdf"),
    ("..\\..\\Windows\\System32\\申报书.pdf", "申报书.pdf"),
    ("C:\\fakepath\\四川某某公司 申报书.pdf", "四川某某公司 申报书.pdf"),
    ("/tmp/evil/../申报书.pdf", "申报书.pdf"),
    ("申报书\u202egpj.pdf", "申报书gpj.pdf"),  # bidi override dropped
    ("  申报书 <script>.pdf ", "申报书 <script>.pdf"),
    ("长" * 300 + ".pdf", "长" * 196 + ".pdf"),
])
def test_odd_and_path_traversal_names_never_reach_the_file_system(
        app, city_client, application_id, tmp_path, raw, shown):
    response = upload(city_client, application_id, "evidence6", (raw, pdf(raw)), htmx=True)
    assert response.status_code == 200
    [row] = stored_files(app)
    # werkzeug may already drop backslashes (quoted-string escapes); either way: no path.
    assert row.original_name.endswith(shown) and len(row.original_name) <= 200
    assert "/" not in row.original_name and "\\" not in row.original_name
    assert files_on_disk(app) == [storage_path(app, row)]
    outside = [p for p in tmp_path.rglob("*") if p.is_file()
               and not str(p).startswith(str(tmp_path / "instance"))]
    assert outside == []
    assert {p.name for p in (tmp_path / "instance").iterdir()} <= {
        "uploads", "xkxl.sqlite3", "xkxl.sqlite3-shm", "xkxl.sqlite3-wal", "template-cache",
        "audit-chain.key"}  # the audit trail's chain key, made on first use
    assert "<script>" not in response.get_data(as_text=True)  # escaped on the page
    download = city_client.get(f"/files/{row.id}/download")
    assert download.data == pdf(raw)
    assert f"filename*=UTF-8''{quote(row.original_name, safe='!#$&+-.^_`|~')}" in \
        download.headers["Content-Disposition"]


def test_oversize_request_gets_the_chinese_413_page_and_leaves_nothing(app, city_client, application_id):
    app.config["MAX_CONTENT_LENGTH"] = 4000
    response = upload(city_client, application_id, "form", ("大文件.pdf", pdf(size=10_000)))
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "文件过大" in page and "200 MB" in page
    htmx = upload(city_client, application_id, "form", ("大文件.pdf", pdf(size=10_000)), htmx=True)
    assert htmx.status_code == 413 and "<html" not in htmx.get_data(as_text=True)
    assert "每个文件不超过 200 MB" in htmx.get_data(as_text=True)
    assert stored_files(app) == [] and files_on_disk(app) == []


def test_a_file_over_the_per_file_limit_is_refused_by_name(app, city_client, application_id):
    app.config["MAX_UPLOAD_MB"] = 1  # the request may be 64 KB more: the file is read and refused
    response = upload(city_client, application_id, "evidence2", ("模型清单.pdf", pdf(size=1_060_000)),
                      htmx=True)
    assert response.status_code == 413
    [row] = events(app, "file.upload_refused")
    assert row.after["reason"] == "too_large" and row.after["size"] == len(pdf(size=1_060_000))
    html = response.get_data(as_text=True)
    assert "文件“模型清单.pdf”大小为 1.0 MB，超过了每个文件 1 MB 的上限" in html
    assert stored_files(app) == [] and files_on_disk(app) == []


def test_the_page_states_the_real_limit_before_upload(app, city_client, application_id):
    app.config["MAX_UPLOAD_MB"] = 64
    page = city_client.get(f"/files/applications/{application_id}").get_data(as_text=True)
    assert "每个文件不超过 <strong>64 MB</strong>" in page
    assert f'data-max-bytes="{64 * 1024 * 1024}"' in page
    assert 'accept=".doc,.docx,.ofd,.pdf,.wps"' in page
    assert "/static/js/files.js" in page and "<script>" not in page


def test_a_body_cut_off_mid_upload_leaves_no_row_and_no_temp_file(app, city_client, application_id):
    boundary = "----xkxl"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n"
            "Content-Type: application/pdf\r\n\r\n").encode()
    body = head + pdf(size=50_000)  # no closing boundary: the client went away
    response = city_client.post(f"/files/applications/{application_id}/form/upload", data=body,
                                headers={"Content-Type": f"multipart/form-data; boundary={boundary}",
                                         "Content-Length": str(len(body) + 100_000)})
    # A real server reports the disconnect (400); the test client just ends the stream early,
    # so the part never completes and nothing is taken. Either way: no row, no temp file.
    assert response.status_code in (400, 422)  # 422: no file arrived
    assert stored_files(app) == [] and files_on_disk(app) == []


def test_several_evidence_files_in_one_request_the_bad_one_refused(app, city_client, application_id):
    response = upload(city_client, application_id, "evidence4",
                      ("服务企业清单.xlsx", XLSX), ("病毒.pdf", EXE), ("合同.docx", DOCX),
                      ("现场.png", PNG), htmx=True)
    html = response.get_data(as_text=True)
    assert "文件“病毒.pdf”是可执行程序" in html
    assert [r.original_name for r in stored_files(app)] == ["服务企业清单.xlsx", "合同.docx", "现场.png"]
    assert len(events(app, "file.uploaded")) == 3


def test_several_files_in_a_plain_form_post_each_get_their_message_on_the_page(
        app, city_client, application_id):
    """Without JavaScript the form sends every chosen file at once: the page it comes back to
    says, for each file by name, whether it was kept."""
    page = upload(city_client, application_id, "evidence6",
                  ("伪装.pdf", "只是文本，不是PDF。\n".encode() * 20), ("设备清单.pdf", pdf("设备清单")),
                  follow_redirects=True).get_data(as_text=True)
    assert "文件“伪装.pdf”的内容不是PDF文件（实际是纯文本）" in page
    assert "已上传附件6 财务报表等其他材料“设备清单.pdf”" in page
    page = upload(city_client, application_id, "evidence5", ("空文件.docx", b""),
                  ("解决方案清单.docx", DOCX), follow_redirects=True).get_data(as_text=True)
    assert "文件“空文件.docx”是空文件" in page
    assert "已上传附件5 解决方案清单“解决方案清单.docx”" in page
    assert [r.original_name for r in stored_files(app)] == ["设备清单.pdf", "解决方案清单.docx"]


def test_the_form_takes_one_file_at_a_time(app, city_client, application_id):
    response = upload(city_client, application_id, "form", ("a.pdf", pdf("a")), ("b.pdf", pdf("b")),
                      htmx=True)
    assert "“申报书”每次只能上传一个文件" in response.get_data(as_text=True)
    assert stored_files(app) == []


def test_replacing_the_form_keeps_every_version(app, city_client, application_id):
    with app.app_context():
        application = db.session.get(Application, application_id)
        assert missing_requirements(application) == ["尚未上传申报书"]
    for n in (1, 2, 3):
        upload(city_client, application_id, "form", (f"申报书第{n}版.pdf", pdf(str(n))))
    rows = stored_files(app)
    assert [r.superseded_at is None for r in rows] == [False, False, True]
    assert rows[0].superseded_at <= rows[1].superseded_at
    with app.app_context():
        application = db.session.get(Application, application_id)
        files = application_files(application)
        assert [f.original_name for f in files["form"]] == ["申报书第3版.pdf", "申报书第2版.pdf", "申报书第1版.pdf"]
        assert set(files) == {"form", *(f"evidence{n}" for n in range(1, 7))}
        assert missing_requirements(application) == []
    page = city_client.get(f"/files/applications/{application_id}").get_data(as_text=True)
    assert page.count(">历史版本</span>") == 2 and page.count(">当前版本</span>") == 1
    for row in rows:  # each version stays downloadable, byte for byte
        response = city_client.get(f"/files/{row.id}/download")
        assert response.status_code == 200 and sha(response.data) == row.sha256
    assert events(app, "file.uploaded")[-1].after["replaces"] == [rows[1].id]


def test_download_keeps_the_chinese_name(app, city_client, province_client, viewer_client, application_id):
    upload(city_client, application_id, "form", ("四川某某 申报书.pdf", pdf()))
    [row] = stored_files(app)
    for client in (city_client, province_client, viewer_client):
        response = client.get(f"/files/{row.id}/download")
        assert response.status_code == 200
        assert response.data == pdf()
        assert response.mimetype == "application/pdf"
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith("attachment;")
        assert ("filename*=UTF-8''%E5%9B%9B%E5%B7%9D%E6%9F%90%E6%9F%90%20"
                "%E7%94%B3%E6%8A%A5%E4%B9%A6.pdf") in disposition
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_another_city_cannot_see_download_upload_or_delete(app, city_client, other_city_client,
                                                          application_id):
    upload(city_client, application_id, "form", ("申报书.pdf", pdf()))
    [row] = stored_files(app)
    assert other_city_client.get(f"/files/{row.id}/download").status_code == 404
    assert other_city_client.get(f"/files/applications/{application_id}").status_code == 404
    response = upload(other_city_client, application_id, "evidence1", ("x.pdf", pdf("x")))
    assert response.status_code == 404
    assert other_city_client.post(f"/files/{row.id}/delete").status_code == 404
    assert len(stored_files(app)) == 1 and storage_path(app, row).exists()
    assert files_on_disk(app) == [storage_path(app, row)]  # the refused upload's temp file is gone


def test_only_clerks_upload_and_delete(app, city_client, province_client, viewer_client, application_id):
    upload(city_client, application_id, "form", ("申报书.pdf", pdf()))
    [row] = stored_files(app)
    for client in (province_client, viewer_client):
        assert upload(client, application_id, "form", ("b.pdf", pdf("b"))).status_code == 404
        assert client.post(f"/files/{row.id}/delete").status_code == 404
        page = client.get(f"/files/applications/{application_id}").get_data(as_text=True)
        assert row.sha256 in page and "upload-box" not in page and "删除</button>" not in page
    assert len(stored_files(app)) == 1


def test_unknown_category_is_404(city_client, application_id):
    assert upload(city_client, application_id, "summary_scan", ("a.pdf", pdf())).status_code == 404
    assert upload(city_client, application_id, "../../x", ("a.pdf", pdf())).status_code == 404


def test_a_row_is_never_left_pointing_at_nothing_when_the_transaction_fails(app, application_id):
    """The file is complete before the row exists, and is removed if the row is not committed."""
    clerk = user_by_name(app, "chengdu")
    with app.app_context():
        application = db.session.get(Application, application_id)
        stored = store_file(clerk, FileStorage(io.BytesIO(pdf()), "申报书.pdf"), category=FORM,
                            application=application)
        path = storage_path(app, stored)
        assert path.read_bytes() == pdf()  # complete (and fsynced) before the commit
        db.session.rollback()
        assert not path.exists()
    assert stored_files(app) == [] and files_on_disk(app) == []


# ---- a retry after a lost answer (issue 23, item 12) ---------------------------------------

def _age(app, row_id: int, minutes: int) -> None:
    with app.app_context():
        row = db.session.get(StoredFile, row_id)
        row.uploaded_at = row.uploaded_at - timedelta(minutes=minutes)
        db.session.commit()


def test_an_htmx_retry_of_the_same_file_answers_the_kept_one(app, city_client, application_id, caplog):
    first = upload(city_client, application_id, "evidence1", ("设备清单.xlsx", XLSX), htmx=True)
    [kept] = stored_files(app)
    with caplog.at_level("INFO", logger="xkxl_intranet.requests"):
        retry = upload(city_client, application_id, "evidence1", ("设备清单（重传）.xlsx", XLSX), htmx=True)
    assert first.status_code == retry.status_code == 200
    html = retry.get_data(as_text=True)
    assert "设备清单.xlsx”（" in html and "上传成功，内容相同，未重复保存" in html
    assert json.loads(retry.headers["HX-Trigger"])["files-changed"]["ids"] == [kept.id]
    assert [r.id for r in stored_files(app)] == [kept.id]  # no second row
    assert files_on_disk(app) == [storage_path(app, kept)]  # no second copy, no temp file left
    assert len(events(app, "file.uploaded")) == 1
    line = [r.getMessage() for r in caplog.records if r.name == "xkxl_intranet.requests"][-1]
    assert line.endswith(" reason=repeated")


def test_a_plain_post_retry_of_the_form_keeps_one_current_version(app, city_client, application_id):
    data = pdf("v1")
    assert upload(city_client, application_id, "form", ("申报书.pdf", data)).status_code == 303
    retry = upload(city_client, application_id, "form", ("申报书.pdf", data))
    assert retry.status_code == 303
    [row] = stored_files(app)
    assert row.superseded_at is None and files_on_disk(app) == [storage_path(app, row)]
    page = city_client.get(retry.headers["Location"]).get_data(as_text=True)
    assert "申报书“申报书.pdf”（" in page and "未重复保存" in page


def test_the_same_content_is_kept_again_after_an_hour_elsewhere_or_once_replaced(
        app, city_client, application_id):
    v1, v2 = pdf("v1"), pdf("v2")
    upload(city_client, application_id, "evidence1", ("清单.pdf", v1))
    [first] = stored_files(app)
    _age(app, first.id, 61)
    upload(city_client, application_id, "evidence1", ("清单.pdf", v1))  # a new upload, not a retry
    upload(city_client, application_id, "evidence2", ("清单.pdf", v1))  # another category
    other = make_application(app, enterprise_name="四川另一家公司", platform_name="另一平台")
    upload(city_client, other, "evidence1", ("清单.pdf", v1))  # another application
    assert len(stored_files(app)) == 4
    # The 申报书 v1, replaced by v2, uploaded again: made current on purpose, a new version.
    for data in (v1, v2, v1):
        upload(city_client, application_id, "form", ("申报书.pdf", data))
    forms = stored_files(app, category="form")
    assert [f.sha256 for f in forms] == [sha(v1), sha(v2), sha(v1)]
    assert [f.superseded_at is None for f in forms] == [False, False, True]
