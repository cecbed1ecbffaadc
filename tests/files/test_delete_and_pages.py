"""Deleting (drafts only, audited), the city page with the 汇总表 scan, the shared fragment."""
import io
import json

from flask import render_template

from xkxl_intranet.applications.file_panels import files_context
from xkxl_intranet.applications.materials import store_bytes
from xkxl_intranet.applications.models import Application
from xkxl_intranet.extensions import db
from xkxl_intranet.files.operations import delete_application_files
from xkxl_intranet.files.queries import missing_requirements
from xkxl_intranet.reports.summary_scan import summary_section
from xkxl_intranet.rounds.models import BatchState, City
from xkxl_intranet.rounds.state import LOCKED_FILES_MESSAGE, batch_for_write, current_round

from .conftest import (
    XLSX,
    events,
    files_on_disk,
    make_application,
    pdf,
    set_review_state,
    sha,
    storage_path,
    stored_files,
    upload,
)
from helpers import user_by_name


def test_delete_in_draft_removes_row_and_file_and_is_audited(app, city_client, application_id):
    upload(city_client, application_id, "evidence1", ("设备清单.xlsx", XLSX))
    [row] = stored_files(app)
    path = storage_path(app, row)
    response = city_client.post(f"/files/{row.id}/delete", headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "已删除附件1 工业设备清单“设备清单.xlsx”" in html
    assert json.loads(response.headers["HX-Trigger"])["files-changed"]["ids"] == [row.id]
    assert stored_files(app) == [] and not path.exists() and files_on_disk(app) == []
    [event] = events(app, "file.deleted")
    assert event.object_id == str(row.id) and event.city_id == row.city_id
    assert event.before["sha256"] == row.sha256 and event.before["name"] == "设备清单.xlsx"
    assert event.username == "chengdu"


def test_deleting_the_current_form_brings_back_the_previous_version(app, city_client, application_id):
    upload(city_client, application_id, "form", ("第1版.pdf", pdf("1")))
    upload(city_client, application_id, "form", ("第2版.pdf", pdf("2")))
    first, second = stored_files(app)
    response = city_client.post(f"/files/{second.id}/delete", follow_redirects=True)
    assert "已删除申报书“第2版.pdf”" in response.get_data(as_text=True)
    [left] = stored_files(app)
    assert left.id == first.id and left.superseded_at is None
    assert "恢复为上一版本“第1版.pdf”" in events(app, "file.deleted")[0].summary


def test_no_deleting_once_the_application_left_draft(app, city_client, application_id):
    upload(city_client, application_id, "form", ("申报书.pdf", pdf()))
    [row] = stored_files(app)
    set_review_state(app, application_id, "passed")
    page = city_client.get(f"/files/applications/{application_id}").get_data(as_text=True)
    assert "删除</button>" not in page
    response = city_client.post(f"/files/{row.id}/delete", headers={"HX-Request": "true"})
    assert "已不是草稿（市州初审通过），不能删除文件“申报书.pdf”" in response.get_data(as_text=True)
    assert len(stored_files(app)) == 1 and storage_path(app, row).exists()
    assert events(app, "file.deleted") == []
    # Uploading a new version still works, and keeps the old one.
    upload(city_client, application_id, "form", ("申报书修改版.pdf", pdf("2")))
    assert [r.superseded_at is None for r in stored_files(app)] == [False, True]


def test_deleting_an_application_takes_its_files_along(app, city_client, application_id):
    """Rows in the same flush, the bytes only once the deletion is committed."""
    upload(city_client, application_id, "form", ("申报书.pdf", pdf()))
    upload(city_client, application_id, "evidence3", ("APP清单.xlsx", XLSX))
    paths = [storage_path(app, r) for r in stored_files(app)]
    clerk = user_by_name(app, "chengdu")
    with app.app_context():
        delete_application_files(clerk, db.session.get(Application, application_id))
        db.session.rollback()  # changed its mind: rows and bytes stay
    assert len(stored_files(app)) == 2 and all(p.exists() for p in paths)
    with app.app_context():
        application = db.session.get(Application, application_id)
        delete_application_files(clerk, application)
        db.session.delete(application)
        db.session.flush()
        assert all(p.exists() for p in paths)  # not yet committed
        db.session.commit()
    assert stored_files(app) == [] and not any(p.exists() for p in paths)
    assert len(events(app, "file.deleted")) == 2


def test_city_uploads_the_stamped_summary_scan_with_versions(app, city_client, other_city_client,
                                                             province_client, viewer_client):
    page = city_client.get("/files/city").get_data(as_text=True)
    assert "附件3 汇总表（盖章扫描件）" in page and 'action="/files/city/summary-scan"' in page
    for n in (1, 2):
        response = city_client.post("/files/city/summary-scan",
                                    data={"file": (io.BytesIO(pdf(f"scan{n}")), f"汇总表盖章{n}.pdf")},
                                    content_type="multipart/form-data")
        assert response.status_code == 303
    first, second = stored_files(app, category="summary_scan")
    assert first.application_id is None and first.superseded_at is not None and second.superseded_at is None
    assert second.sha256 == sha(pdf("scan2"))
    page = city_client.get("/files/city").get_data(as_text=True)
    assert "汇总表盖章1.pdf" in page and "汇总表盖章2.pdf" in page and second.sha256 in page
    # Scans are not deleted, only replaced.
    response = city_client.post(f"/files/{first.id}/delete", headers={"HX-Request": "true"})
    assert "汇总表扫描件“汇总表盖章1.pdf”不能删除" in response.get_data(as_text=True)
    # Word is not a scan.
    response = city_client.post("/files/city/summary-scan", headers={"HX-Request": "true"},
                                data={"file": (io.BytesIO(XLSX), "汇总表.xlsx")},
                                content_type="multipart/form-data")
    assert response.status_code == 422 and response.headers["X-Upload-Refused"] == "1"
    assert "格式不受支持，仅支持 PDF、OFD、图片（JPG/PNG）" in response.get_data(as_text=True)
    # Without JavaScript: the city's files page again, with the message in the scan's box.
    response = city_client.post("/files/city/summary-scan", data={"file": (io.BytesIO(XLSX), "汇总表.xlsx")},
                                content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" in page and "附件3 汇总表（盖章扫描件）" in page
    assert "文件“汇总表.xlsx”的格式不受支持" in page
    assert [e.after["reason"] for e in events(app, "file.upload_refused")] == ["extension", "extension"]
    # Another city sees neither the scan nor its own upload form for 成都.
    assert other_city_client.get(f"/files/{second.id}/download").status_code == 404
    other = other_city_client.get(f"/files/city?city_id={second.city_id}").get_data(as_text=True)
    assert "绵阳市" in other and "汇总表盖章2.pdf" not in other
    # Staff see it, cannot upload.
    for client in (province_client, viewer_client):
        assert client.get(f"/files/{second.id}/download").data == pdf("scan2")
        staff = client.get(f"/files/city?city_id={second.city_id}").get_data(as_text=True)
        assert "汇总表盖章2.pdf" in staff and "upload-box" not in staff
        assert client.post("/files/city/summary-scan").status_code == 404
    assert len(stored_files(app)) == 2 and len(files_on_disk(app)) == 2


def test_city_page_lists_applications_and_zip_links(app, city_client, province_client, application_id):
    upload(city_client, application_id, "form", ("申报书.pdf", pdf()))
    make_application(app, enterprise_name="第二家公司")
    page = city_client.get("/files/city").get_data(as_text=True)
    assert "四川某某科技有限公司" in page and "第二家公司" in page
    assert page.count("已上传</span>") == 1 and page.count("未上传</span>") == 1
    assert "/files/cities/" in page and "/files/all.zip" not in page
    assert "材料与汇总表" in page  # the navigation entry
    staff = province_client.get("/files/city").get_data(as_text=True)
    assert "/files/all.zip" in staff and "请选择市（州）" in staff and "成都市" in staff


def test_the_panel_for_the_applications_page(app, application_id):
    """Built without a request, for the acting user: only the own city's clerk may write."""
    clerk, other, staff = (user_by_name(app, name) for name in ("chengdu", "mianyang", "province"))
    with app.app_context():
        application = db.session.get(Application, application_id)
        context = files_context(clerk, application, return_to=f"/applications/{application_id}")
        assert set(context) == {"application", "file_panel"}
        panel = context["file_panel"]
        assert panel.missing == ["尚未上传申报书"] and panel.refusal is None
        assert [s.category.key for s in panel.sections] == ["form", *(f"evidence{n}" for n in range(1, 7))]
        assert all(s.can_upload and s.application_id == application_id for s in panel.sections)
        assert panel.section("form").return_to == f"/applications/{application_id}"
        assert panel.section("form").dom_id == f"files-{application_id}-form"
        for user in (other, staff):
            panel = files_context(user, application, return_to="/")["file_panel"]
            assert not any(s.can_upload or s.deletable for s in panel.sections)
        readonly = files_context(clerk, application, readonly=True, return_to="/")["file_panel"]
        assert not any(s.can_upload for s in readonly.sections)
        assert missing_requirements(application) == ["尚未上传申报书"]
        city = db.session.get(City, application.city_id)
        scans = summary_section(clerk, city, current_round(), return_to="/files/city")
        assert scans.can_upload and scans.application_id is None and scans.files == []
        assert not summary_section(staff, city, current_round(), return_to="/").can_upload


def test_the_fragment_for_the_applications_page(app, application_id):
    clerk = user_by_name(app, "chengdu")
    with app.test_request_context(f"/applications/{application_id}"):
        application = db.session.get(Application, application_id)
        context = files_context(clerk, application, return_to=f"/applications/{application_id}")
        html = render_template("files/_application_files.html", **context)
        assert "申报书及证明材料" in html and "尚未上传申报书" in html
        assert html.count('class="upload-box"') == 7
        assert f'action="/files/applications/{application_id}/evidence6/upload"' in html
        assert f'name="next" value="/applications/{application_id}"' in html
        assert "附件6 财务报表等其他材料" in html
        readonly = render_template("files/_application_files.html",
                                   **files_context(clerk, application, readonly=True, return_to="/"))
        assert "upload-box" not in readonly


def test_a_reported_batch_closes_uploads_and_deletion(app, city_client, application_id):
    upload(city_client, application_id, "evidence1", ("设备清单.xlsx", XLSX))
    [row] = stored_files(app)
    with app.app_context():
        application = db.session.get(Application, application_id)
        batch_for_write(application.round_id, application.city_id).state = BatchState.REPORTED
        db.session.commit()
    response = upload(city_client, application_id, "form", ("申报书.pdf", pdf()), htmx=True)
    assert LOCKED_FILES_MESSAGE in response.get_data(as_text=True)
    assert "HX-Trigger" not in response.headers
    page = city_client.get(f"/files/applications/{application_id}").get_data(as_text=True)
    assert "upload-box" not in page and LOCKED_FILES_MESSAGE in page
    response = city_client.post(f"/files/{row.id}/delete", headers={"HX-Request": "true"})
    assert LOCKED_FILES_MESSAGE in response.get_data(as_text=True)
    assert [r.id for r in stored_files(app)] == [row.id] and len(files_on_disk(app)) == 1


def test_store_bytes_for_demo_data_and_imports(app):
    """Outside a request (the CLI), a file made by the system is kept like an upload."""
    application_id = make_application(app)
    clerk = user_by_name(app, "chengdu")
    with app.app_context():
        application = db.session.get(Application, application_id)
        stored = store_bytes(db.session.merge(clerk), pdf("demo"), "演示申报书.pdf", category="form",
                             application=application)
        db.session.commit()
        assert missing_requirements(application) == []
        assert stored.uploaded_by.username == "chengdu"
    [event] = events(app, "file.uploaded")
    assert event.username == "chengdu" and event.ip == "命令行"
    assert storage_path(app, stored_files(app)[0]).read_bytes() == pdf("demo")


def test_no_page_links_to_itself_and_the_summary_to_print_is_linked(app, city_client, province_client,
                                                                    application_id):
    url = f"/files/applications/{application_id}"
    page = city_client.get(url).get_data(as_text=True)
    assert f'href="{url}"' not in page and "材料页面" not in page
    assert f'href="/applications/{application_id}"' in page  # 返回申报详情
    detail = city_client.get(f"/applications/{application_id}").get_data(as_text=True)
    assert f'href="{url}">材料页面</a>' in detail  # from the application's page it is a way there
    with app.app_context():
        city_id = db.session.scalar(db.select(City.id).where(City.code == "510100"))
    for client, files_url in ((city_client, "/files/city"), (province_client, f"/files/city?city_id={city_id}")):
        hint = client.get(files_url).get_data(as_text=True)
        hint = hint[hint.index('<p class="hint upload-limit">'):]
        hint = hint[:hint.index("</p>")]
        assert f'<a href="/reports/cities/{city_id}/summary">《附件3 推荐信息汇总表》</a>' in hint
        assert f'href="/reports/cities/{city_id}/summary.pdf"' in hint
        assert client.get(f"/reports/cities/{city_id}/summary").status_code == 200
