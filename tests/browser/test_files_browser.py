"""The files page in a real browser: choose a PDF, see it uploaded and listed with its SHA-256."""
import hashlib
import io
import threading
import zipfile

import pytest

from xkxl_intranet.materials import archive_builds

from files.conftest import DOCX, EXE, make_application, pdf
from helpers import browser_login

pytestmark = pytest.mark.browser


def test_clerk_uploads_a_pdf_and_sees_it_listed_with_its_sha256(page, app):
    application_id = make_application(app, enterprise_name="四川浏览器测试有限公司")
    data = pdf("browser", size=300_000)
    digest = hashlib.sha256(data).hexdigest()
    browser_login(page, "chengdu")
    page.goto(f"/files/applications/{application_id}")
    assert "每个文件不超过 200 MB" in page.locator(".upload-limit").inner_text()
    box = page.locator(f"#files-{application_id}-form")
    # The JS hides the no-script button and uploads as soon as a file is chosen.
    assert not box.locator(".upload-submit").is_visible()
    box.locator("input[type=file]").set_input_files(
        files=[{"name": "申报书（盖章版）.pdf", "mimeType": "application/pdf", "buffer": data}])
    row = page.locator(f"#files-{application_id}-form tr.is-current")
    row.wait_for()
    assert "申报书（盖章版）.pdf" in row.inner_text()
    assert row.locator("code.sha256").inner_text() == digest
    assert "已上传申报书" in page.locator(f"#files-{application_id}-form").inner_text()
    assert page.locator(f"#file-requirements-{application_id}").inner_text().strip() == "申报书已上传"

    # A refused file: the message names it, the uploaded form stays.
    evidence = page.locator(f"#files-{application_id}-evidence1")
    evidence.locator("input[type=file]").set_input_files(
        files=[{"name": "设备清单.pdf", "mimeType": "application/pdf", "buffer": EXE}])
    page.locator(f"#files-{application_id}-evidence1 .msg-error").wait_for()
    assert "文件“设备清单.pdf”是可执行程序" in page.locator(f"#files-{application_id}-evidence1").inner_text()
    assert page.locator(f"#files-{application_id}-form code.sha256").inner_text() == digest

    # Several files at once go one after another, each with its own request.
    many = page.locator(f"#files-{application_id}-evidence3")
    many.locator("input[type=file]").set_input_files(files=[
        {"name": f"工业APP清单{n}.pdf", "mimeType": "application/pdf", "buffer": pdf(str(n))}
        for n in range(1, 4)])
    page.wait_for_function(
        f"() => document.querySelectorAll('#files-{application_id}-evidence3 tbody tr').length === 3")
    assert [cell.inner_text() for cell in
            page.locator(f"#files-{application_id}-evidence3 tbody td:first-child").all()] == [
        "工业APP清单1.pdf", "工业APP清单2.pdf", "工业APP清单3.pdf"]


def test_too_large_files_are_refused_with_a_message(page, app):
    application_id = make_application(app)
    app.config["MAX_UPLOAD_MB"] = 1
    browser_login(page, "chengdu")
    page.goto(f"/files/applications/{application_id}")
    box = page.locator(f"#files-{application_id}-evidence6")
    # Over the per-file limit: refused in the browser before sending.
    box.locator("input[type=file]").set_input_files(
        files=[{"name": "财务报表.pdf", "mimeType": "application/pdf", "buffer": pdf(size=1_200_000)}])
    refusal = box.locator(":scope > p.msg-error")
    refusal.wait_for()
    assert "文件“财务报表.pdf”大小为 1.1 MB，超过了每个文件 1 MB 的上限" in refusal.inner_text()
    # Over the server's request limit (413): the server's message is shown in the box, for the file.
    app.config["MAX_CONTENT_LENGTH"] = 100_000
    box.locator("input[type=file]").set_input_files(
        files=[{"name": "审计报告.pdf", "mimeType": "application/pdf", "buffer": pdf(size=300_000)}])
    page.wait_for_function(
        "el => el.textContent.includes('上传失败')", arg=box.element_handle())
    # The server's own Chinese 413 message (htmx does not swap error responses; files.js shows it).
    assert _messages(box) == [refusal.inner_text()]
    assert "文件“审计报告.pdf”上传失败：413 · 文件过大" in refusal.inner_text()
    assert "每个文件不超过 1 MB" in refusal.inner_text()


def _messages(box) -> list[str]:
    return [p.inner_text() for p in box.locator(":scope > p.msg").all()]


def test_several_files_chosen_together_keep_one_message_per_file(page, app):
    """Each file is its own request and each answer replaces the box: the refusal of the first
    file must still be on screen, beside the last file's success, when the batch is done."""
    application_id = make_application(app, enterprise_name="四川多文件测试有限公司")
    browser_login(page, "chengdu")
    page.goto(f"/files/applications/{application_id}")
    box = page.locator(f"#files-{application_id}-evidence6")
    box.locator("input[type=file]").set_input_files(files=[
        {"name": "伪装.pdf", "mimeType": "application/pdf", "buffer": "这不是PDF，只是文本。\n".encode() * 20},
        {"name": "设备清单.pdf", "mimeType": "application/pdf", "buffer": pdf("设备清单")}])
    page.wait_for_function(
        f"() => document.querySelectorAll('#files-{application_id}-evidence6 > p.msg').length === 2")
    shown = _messages(box)
    assert "文件“伪装.pdf”的内容不是PDF文件（实际是纯文本）" in shown[0]
    assert "已上传附件6 财务报表等其他材料“设备清单.pdf”" in shown[1]
    assert box.locator(":scope > p.msg-error").count() == 1
    assert [cell.inner_text() for cell in box.locator("tbody td:first-child").all()] == ["设备清单.pdf"]

    # The error last this time: the first file's success stays beside it.
    solutions = page.locator(f"#files-{application_id}-evidence5")
    solutions.locator("input[type=file]").set_input_files(files=[
        {"name": "解决方案清单.docx", "mimeType": "application/octet-stream", "buffer": DOCX},
        {"name": "空文件.docx", "mimeType": "application/octet-stream", "buffer": b""}])
    page.wait_for_function(
        f"() => document.querySelectorAll('#files-{application_id}-evidence5 > p.msg').length === 2")
    shown = _messages(solutions)
    assert "已上传附件5 解决方案清单“解决方案清单.docx”" in shown[0]
    assert "文件“空文件.docx”是空文件" in shown[1]

    # A new choice starts afresh: only its own message.
    box.locator("input[type=file]").set_input_files(files=[
        {"name": "审计报告.pdf", "mimeType": "application/pdf", "buffer": pdf("审计报告")}])
    page.wait_for_function(
        f"() => document.querySelector('#files-{application_id}-evidence6 > p.msg')"
        ".textContent.includes('审计报告.pdf')")
    assert len(_messages(box)) == 1


def test_a_large_zip_is_packed_while_the_page_says_so_and_then_downloads_itself(page, app, monkeypatch,
                                                                                tmp_path):
    """The build runs in the background; the page polls (htmx) and, once the archive is ready,
    starts the download itself, once, and stops polling."""
    app.config["ZIP_INLINE_BYTES"] = 0  # every archive counts as large
    gate, real_build = threading.Event(), archive_builds.build_archive
    monkeypatch.setattr(archive_builds, "build_archive",
                        lambda *args, **kwargs: gate.wait(20) and real_build(*args, **kwargs))
    application_id = make_application(app, enterprise_name="四川浏览器测试有限公司")
    browser_login(page, "chengdu")
    page.goto(f"/files/applications/{application_id}")
    page.locator(f"#files-{application_id}-form input[type=file]").set_input_files(
        files=[{"name": "申报书.pdf", "mimeType": "application/pdf", "buffer": pdf("zip")}])
    page.locator(f"#files-{application_id}-form tr.is-current").wait_for()
    errors, downloads = [], []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("download", lambda download: downloads.append(download))
    page.goto("/files/city")
    page.click("text=下载成都市全部材料（ZIP）")
    page.wait_for_selector("#archive-progress:has-text('正在打包…')")
    assert "打包完成后自动开始下载" in page.locator("#archive-progress").inner_text()
    with page.expect_download(timeout=15_000) as download_info:
        gate.set()
    download = download_info.value
    assert download.suggested_filename == "成都市_申报材料_2022.zip"
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    names = zipfile.ZipFile(io.BytesIO(target.read_bytes())).namelist()
    assert names == ["manifest.csv", "成都市/未列入汇总表_四川浏览器测试有限公司/申报书/申报书.pdf"]
    assert "已打包完成" in page.locator("#archive-progress").inner_text()
    page.wait_for_timeout(2500)  # no second download, no further poll
    assert len(downloads) == 1 and page.locator("#archive-progress[hx-trigger]").count() == 0
    assert errors == []
