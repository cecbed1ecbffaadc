"""Sizes are checked in the browser before anything is sent: the file input knows the size."""
import pytest

from helpers import browser_login

pytestmark = pytest.mark.browser


def test_an_oversize_template_is_refused_before_sending(page, app):
    browser_login(page, "chengdu")
    page.goto("/reports/import")
    posts = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    chooser = page.locator("input[type=file][name=file]")
    chooser.set_input_files(files=[{
        "name": "指标模板.xlsx", "buffer": b"PK" + b"\0" * (6 * 1024 * 1024),
        "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}])
    message = page.locator("[data-size-message]")
    message.wait_for()
    assert "文件“指标模板.xlsx”大小为 6.0 MB，超过了 5 MB 的上限" in message.inner_text()
    page.click("text=上传并检查")
    page.wait_for_timeout(300)
    assert posts == []
    assert chooser.evaluate("el => el.files.length") == 0
