import binascii
from base64 import urlsafe_b64decode, urlsafe_b64encode
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, ValidationError

from ..domain.dates import DAY_EXAMPLES, read_day
from ..domain.deadlines import parse_deadline
from ..domain.findings import ParseError, echo
from ..domain.parsing import parse_email, parse_phone
from ..filenames import display_name
from ..forms import Form
from ..notice.loader import NoticeError, load_notice, read_notice_bytes
from ..notice.schema import Notice, PaperCopies
from ..notice.shipped import notice_files
from .models import Disclosure

DATE_PLACEHOLDER = "年-月-日，如 2022-03-18"
DATE_HINT = f"日期如 {DAY_EXAMPLES}；未收到的留空。"


class ChineseDateField(StringField):
    """A day typed as 2022-03-18, 2022/3/18 or 2022年3月18日, in a text box that shows the pattern.
    (The browser's own date box follows the PC's language: mm/dd/yyyy on an English Windows.)
    A month alone is refused: a date of receipt is a day."""

    def __init__(self, label=None, validators=None, **kwargs):
        render_kw = {"placeholder": DATE_PLACEHOLDER, "autocomplete": "off", **(kwargs.pop("render_kw", None) or {})}
        super().__init__(label, validators, render_kw=render_kw, **kwargs)

    def process_formdata(self, valuelist):
        self.data = None
        if valuelist:
            try:
                self.data = read_day(valuelist[0], self.label.text)
            except ParseError as err:
                self.process_errors.append(err.message)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return self.data.isoformat() if self.data else ""


class DeadlineField(StringField):
    """A deadline typed as Asia/Shanghai local time (or ISO with an offset)."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        self.moment = None
        if self.data:
            try:
                self.moment = parse_deadline(self.data)
            except ValueError as err:
                self.moment = None
                self.process_errors.append(f"「{self.label.text}」：{err}")

    def pre_validate(self, form):
        if self.data and self.moment is None and not self.process_errors:
            raise ValidationError(f"「{self.label.text}」：无法识别的时间")


class ConfirmForm(Form):
    pass


class ReportForm(Form):
    scan_missing_acknowledged = BooleanField("已知悉：加盖公章的汇总表扫描件尚未上传，纸质版另行报送")


class ExtensionForm(Form):
    deadline = DeadlineField("延期至（北京时间）", validators=[DataRequired("请填写延期截止时间")])
    reason = TextAreaField("延期原因", validators=[DataRequired("请填写延期原因")])
    confirm_past = BooleanField("确认立即截止：所填延期时间也已过去，保存后该市（州）立即不能报送")


class ReturnForm(Form):
    reason = TextAreaField("退回原因", validators=[DataRequired("请填写退回原因")])


class PaperForm(Form):
    """The days the paper copies arrived. The 申报书's label says the copies the round's notice
    asks for (「申报书纸质版（一式两份）收到日期」): given as ``paper`` when the form is built, as
    the label must be known when the typed day is read (a message quotes it)."""

    paper_forms_received_on = ChineseDateField(label="申报书纸质版收到日期")  # relabelled by Meta.bind_field
    paper_disc_received_on = ChineseDateField("电子版光盘收到日期")
    paper_summary_received_on = ChineseDateField("汇总表纸质版收到日期")
    paper_note = StringField("备注")

    class Meta:
        def bind_field(self, form, unbound_field, options):
            if options.get("name") == "paper_forms_received_on":
                options = {**options, "label": f"{form.paper.forms_label}收到日期"}
            return super().bind_field(form, unbound_field, options)

    def __init__(self, *args, paper: PaperCopies, **kwargs):
        self.paper = paper  # before the fields are bound (Form.__init__): Meta.bind_field reads it
        super().__init__(*args, **kwargs)


class DisclosureForm(Form):
    disclosure = RadioField("信息公开选项", choices=[(d.value, d.value) for d in Disclosure],
                            validate_choice=False)


class DeadlineForm(Form):
    deadline = DeadlineField("报送截止时间（北京时间）", validators=[DataRequired("请填写截止时间")])
    confirm_past = BooleanField("确认：该时间如已过，保存后全部市（州）立即截止")


class PublishForm(Form):
    publish = StringField()  # "1" publishes the results, "0" withdraws them
    # Publishing while cities have not reported or before the deadline: the officer confirms
    # it (any value but "" or "false", e.g. a checkbox or hidden input with value "y").
    confirm_early = BooleanField("确认提前公布")


def parsed_by(parse: Callable[[object, str], str | None]):
    """A validator that reads the field as the domain does (phone, e-mail): its Chinese message
    names the field, and what is kept is the normalised value."""

    def validate(form, field):
        try:
            field.data = parse(field.data, field.label.text) or ""
        except ParseError as err:
            raise ValidationError(str(err)) from None
    return validate


# A notice file is some tens of KB (notices/2022.toml: 44 KB); a file over this is not one.
MAX_NOTICE_BYTES = 1024 * 1024
# The preview's 开启 post carries the file's bytes in base64 (a third more) beside the boxes.
MAX_CARRIED_BYTES = MAX_NOTICE_BYTES * 2


def notice_label(path: Path) -> str:
    """How the form offers a shipped notice file: its name, title and number, or that it cannot
    be used (the page is the province's and shows the file's problems when it is chosen)."""
    found = _described(path)
    return f"{path.name}（{found}）"


def _described(path: Path) -> str:
    try:
        stat = path.stat()
    except OSError:
        return "无法读取"
    return _describe(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=32)
def _describe(path: Path, mtime_ns: int, size: int) -> str:
    """Keyed by the file's time and size: an edited file is read again."""
    try:
        notice = load_notice(path)
    except NoticeError as error:
        return f"有 {len(error.problems)} 处问题，不能使用"
    return f"{notice.title}，{notice.notice_number}，截止 {notice.deadline:%Y-%m-%d %H:%M}"


class NewRoundForm(Form):
    """A later year's round, opened from its notice: one of the notice files in ``folder``, or
    an uploaded one (which then counts). The year is the notice's; every box below it may stay
    blank, and the round then takes the notice's value.

    The 申报批次 page posts it to the preview, which shows what the round will be and posts it
    again to open the round, carrying the file read for the preview (:meth:`carry`): its bytes
    and the digest the preview showed, checked again, so that what opens is what was seen, even
    if the shipped file is edited in between or the browser would not send an upload twice."""

    notice_file = SelectField("通知文件", validate_choice=False)
    notice_upload = FileField("或上传通知文件（.toml）")
    title = StringField("名称")
    notice_number = StringField("通知文号")
    deadline = DeadlineField("报送截止时间（北京时间）")
    ministry_notice_number = StringField("依据的工业和信息化部通知文号")
    contact_name = StringField("联系人")
    contact_phone = StringField("联系电话", validators=[parsed_by(parse_phone)])
    contact_email = StringField("电子邮箱", validators=[parsed_by(parse_email)])
    confirm_replace = BooleanField("确认开启新批次：当前批次尚未结束时，开启后各页面只显示新批次")
    notice_data = HiddenField()  # the previewed file's bytes, base64
    notice_digest = HiddenField()  # the digest the preview showed
    carried_name = HiddenField()  # the previewed file's name
    carried_upload = HiddenField()  # "1" when the previewed file was uploaded

    def __init__(self, *args, folder: Path, **kwargs):
        super().__init__(*args, **kwargs)
        self.folder_files = notice_files(folder)
        self.notice_file.choices = [(p.name, notice_label(p)) for p in self.folder_files]
        if not self.notice_file.data and self.folder_files:
            self.notice_file.data = self.folder_files[-1].name  # the latest year's
        self.notice: Notice | None = None  # the notice read, once the form validates
        self.notice_name = ""  # the name of the file it was read from
        self.notice_bytes = b""  # and the file itself

    @property
    def notice_was_uploaded(self) -> bool:
        return self.uploaded() or (self.carried() and self.carried_upload.data == "1")

    @property
    def notice_source(self) -> str:
        """Where the notice came from, as the audit trail records it."""
        return f"上传的 {self.notice_name}" if self.notice_was_uploaded else self.notice_name

    @property
    def notice_described(self) -> str:
        """The same, as a sentence says it: 「上传的通知文件 2023.toml」, 「通知文件 2023.toml」."""
        return f"{'上传的' if self.notice_was_uploaded else ''}通知文件 {self.notice_name}"

    def uploaded(self) -> bool:
        upload = self.notice_upload.data
        return upload is not None and bool(getattr(upload, "filename", ""))

    def carried(self) -> bool:
        """Posted from the preview, with the file it showed."""
        return bool(self.notice_data.data)

    def carry(self) -> None:
        """Put the notice read into the hidden fields, for the preview's 开启 post."""
        assert self.notice is not None
        self.notice_data.data = urlsafe_b64encode(self.notice_bytes).decode("ascii")
        self.notice_digest.data = self.notice.digest
        self.carried_name.data = self.notice_name
        self.carried_upload.data = "1" if self.uploaded() else ""

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.carried():
            field = self.notice_data
        else:
            field = self.notice_upload if self.uploaded() else self.notice_file
        try:
            self.notice, self.notice_name, self.notice_bytes = self._read_notice()
        except NoticeError as error:
            field.errors = [*field.errors, *error.problems]
            return False
        return ok

    def _read_notice(self) -> tuple[Notice, str, bytes]:
        if self.carried():
            return self._carried_notice()
        if self.uploaded():
            upload = self.notice_upload.data
            name = display_name(upload.filename)
            if not name.lower().endswith(".toml"):
                raise NoticeError([f"“{echo(name)}”不是通知文件：通知文件是 .toml 文件（见 docs/notice-file.md）"])
            raw = upload.read(MAX_NOTICE_BYTES + 1)
            if len(raw) > MAX_NOTICE_BYTES:
                raise NoticeError([f"“{echo(name)}”超过 {MAX_NOTICE_BYTES // 1024} KB，不是通知文件"])
            return read_notice_bytes(raw, name), name, raw
        chosen = next((p for p in self.folder_files if p.name == self.notice_file.data), None)
        if chosen is None:
            raise NoticeError(["请选择通知文件，或上传一个通知文件（.toml）"])
        try:
            raw = chosen.read_bytes()
        except OSError as error:
            raise NoticeError([f"无法读取通知文件 {chosen.name}：{error.strerror or error}"]) from None
        return read_notice_bytes(raw, chosen.name), chosen.name, raw

    def _carried_notice(self) -> tuple[Notice, str, bytes]:
        name = display_name(self.carried_name.data or "") or "通知文件"
        again = "请回到「申报批次」页重新选择通知文件并预览。"
        try:
            raw = urlsafe_b64decode(self.notice_data.data.encode("ascii"))
        except (binascii.Error, UnicodeEncodeError, ValueError):
            raise NoticeError([f"预览中的通知文件 {echo(name)} 无法读取。{again}"]) from None
        if len(raw) > MAX_NOTICE_BYTES:
            raise NoticeError([f"“{echo(name)}”超过 {MAX_NOTICE_BYTES // 1024} KB，不是通知文件"])
        notice = read_notice_bytes(raw, name)
        if notice.digest != self.notice_digest.data:
            raise NoticeError([f"通知文件 {echo(name)} 与预览时显示的不同（摘要不符），未开启批次。{again}"])
        return notice, name, raw
