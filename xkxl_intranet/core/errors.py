"""Chinese error pages; htmx requests get the message as a small fragment."""
from flask import g, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError

from ..domain.errors import NotFound, Refused
from ..files.storage import StorageUnavailable
from ..generated import RenderBusy
from ..guards import refused_body_size
from ..jobs.queue import JobUnavailable
from ..web import log_reason, roll_back, wants_fragment
from .audit_hooks import record_csrf_failure, record_oversize_upload, record_refused_access

# How SQLite and PostgreSQL say that the disk is full.
DISK_FULL = ("database or disk is full", "No space left on device", "could not extend file")
DISK_FULL_TITLE = "存储空间已满"
LOGIN_ENDPOINT = "auth.login"

MESSAGES = {
    400: ("请求无效", "提交的内容无法处理，请返回上一页重试。"),
    403: ("没有权限", "您的账号没有进行此操作的权限。"),
    404: ("页面不存在", "您要找的页面不存在，或您的账号无权查看。"),
    405: ("请求方式不被允许", "请通过页面上的按钮进行操作。"),
    409: ("操作未能完成", "当前状态不允许这一操作。"),
    413: ("文件过大", "上传的文件超过了系统允许的大小。"),
    507: ("文件未能保存", "服务器的存储空间已满或无法写入，本次上传的文件未保存。"
                       "请稍后重试，并告知省厅大数据与信息化处。"),
    503: ("系统繁忙", "后台处理繁忙，本次请求未能完成：正在生成或读取的文件较多，请稍等一分钟后再试。"),
    500: ("系统内部错误", "系统出现了问题，已记录。请稍后重试；如仍有问题，请联系省厅大数据与信息化处。"),
}


def _render(status: int, detail: str | None = None, title: str | None = None):
    default_title, message = MESSAGES.get(status, MESSAGES[500])
    title = title or default_title
    template = "errors/_error.html" if wants_fragment() else "errors/error.html"
    return render_template(template, status=status, title=title, message=detail or message), status


def _disk_full_message() -> str:
    """Titled by what happened (:data:`DISK_FULL_TITLE`), not 「文件未能保存」: a log-in, which
    writes its session and audit rows, fails this way with no file in sight."""
    if request.endpoint == LOGIN_ENDPOINT:
        return ("服务器的存储空间已满，暂时无法登录（登录需要记录会话）。"
                "请告知省厅大数据与信息化处，空间清理后即可登录。")
    return "服务器的存储空间已满，本次提交的内容未保存。请稍后重试，并告知省厅大数据与信息化处。"


def _refused_access(status: int):
    record_refused_access(status)  # a signed-in person's: the audit trail keeps it
    return _render(status)


def _too_large():
    limit = g.get("body_limit")  # set by guards.bound_request, with words that name the limit
    if limit is None:
        return _render(413)
    if limit.upload:  # as for a refused file the app read: a reason in the log, a row in the trail
        log_reason("too_large")
        record_oversize_upload(refused_body_size(), limit.message)
    return _render(413, limit.message, limit.title)


def register_error_handlers(app):
    for status, answer in ((400, _render), (403, _refused_access), (404, _refused_access), (405, _render)):
        app.register_error_handler(status, lambda err, s=status, a=answer: a(s))

    @app.errorhandler(NotFound)
    def not_found(err):
        return _refused_access(404)

    @app.errorhandler(Refused)
    def refused(err):
        # A route that did not expect the refusal: nothing is kept but the attempt's record, the
        # clerk reads why.
        roll_back(err.message)
        return _render(409, err.message)

    @app.errorhandler(413)
    def too_large(err):
        return _too_large()

    @app.errorhandler(StorageUnavailable)
    def storage_unavailable(err):
        # Nothing half-stored: the transaction goes, and with it any file moved into storage;
        # the temporary file goes with the request. The operator reads the cause in the log.
        roll_back()
        app.logger.error("upload not stored, the uploads folder could not take it: %s", err.cause,
                         exc_info=err.cause)
        return _render(507)

    @app.errorhandler(JobUnavailable)
    def job_unavailable(err):
        # A page that waits for a worker (the 申报书模板 .docx) and none answered in time.
        response = _render(503)
        return response[0], 503, {"Retry-After": "30"}

    @app.errorhandler(OperationalError)
    def database_error(err):
        roll_back()
        if not any(words in str(err.orig) for words in DISK_FULL):
            raise err
        app.logger.error("not saved, the database's disk is full: %s", err.orig, exc_info=err)
        return _render(507, _disk_full_message(), DISK_FULL_TITLE)

    @app.errorhandler(RenderBusy)
    def render_busy(err):
        # Every render slot stayed taken: the download is asked again later, nothing is lost.
        app.logger.warning("a download waited for a render slot in vain: %s", request.path)
        body, status = _render(503)
        return body, status, {"Retry-After": "60"}

    @app.errorhandler(CSRFError)
    def csrf_error(err):
        record_csrf_failure(err.description)
        return _render(400, "页面已过期或请求来源无法验证，请刷新页面后重新提交。")

    @app.errorhandler(500)
    def internal_error(err):
        roll_back()
        return _render(500)
