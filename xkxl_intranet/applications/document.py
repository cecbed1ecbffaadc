"""An application's 申报书 as the system read it: the panel 「申报书中读取的数据」 (each field read,
beside the saved value where they differ), the values that fill the form's empty fields (the
clerk then saves as usual: every check and the audit apply), and what a new 申报书 changes in
the application's warnings."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from ..audit.services import record
from ..auth.models import User
from ..auth.scoping import is_own_city_clerk
from ..domain.errors import NotFound, Refused
from ..domain.form_compare import (
    Comparison,
    Match,
    blank_document_message,
    compare,
    fill_values,
    unread,
    unread_message,
)
from ..domain.form_layout import Block, form_blocks, texts_for
from ..domain.form_reader import Structure
from ..domain.indicators import Kind
from ..domain.parsing import format_field
from ..extensions import db
from ..files.models import StoredFile
from ..files.queries import current_form, is_current_form
from ..files.reading_state import READER_VERSION, ReadingState, StoredReading, request_reading, stored_reading
from ..jobs.queue import FORM_DOCX_JOB, jobs
from ..printing import print_pdf
from ..rounds.models import Round
from ..rounds.state import batch_is_locked, lock_reason
from .evaluation import recheck
from .models import Application
from .reverting import clear_review, no_longer_passes, record_reverted


def blocks_for(round_: Round, application: Application | None = None,
               changes: dict[str, Any] | None = None) -> list[Block]:
    """The 申报书 of ``round_`` laid out like 附件2, blank or filled with ``application``'s saved
    values (``changes``: texts written instead, e.g. a demo document that differs)."""
    form = round_.form
    texts = texts_for(application.values(), form=form) if application is not None else {}
    texts.update(changes or {})
    if application is None:
        return form_blocks(texts, form=form, title=round_.title, year=round_.year)
    return form_blocks(texts, form=form, title=round_.title, year=round_.year,
                       city=application.city.department_name, date=f"{application.created_at:%Y年%m月%d日}")


def form_docx(blocks: list[Block]) -> bytes:
    """The 申报书 as .docx, written by a worker (python-docx stays out of the web process); the
    page waits for it, before the readings in the queue. Raises ``jobs.queue.JobUnavailable``
    if no worker answers in time (the error page says to try again)."""
    docx: bytes = jobs().call(FORM_DOCX_JOB, blocks)
    return docx


def template_docx(round_: Round) -> bytes:
    """The blank 申报书模板 (.docx) enterprises fill in."""
    return form_docx(blocks_for(round_))


def template_pdf(round_: Round) -> bytes:
    """The blank template as PDF (the print template renders the same blocks)."""
    return print_pdf("applications/form_print.html", blocks=blocks_for(round_), title=f"{round_.title}申报书",
                     demo=False)


def template_versions(round_: Round) -> list[Any]:
    """What the blank template depends on (its files' key, see :mod:`generated`): the round's
    title and year, and the notice whose form it lays out."""
    return [round_.id, round_.title, round_.year, round_.notice_digest]


def prefilled_versions(application: Application) -> list[Any]:
    """What the prefilled template depends on: the application's row (its version) and what the
    template prints of its city and round."""
    return [application.id, application.version, application.created_at, application.city.department_name,
            *template_versions(application.round)]


def prefilled_docx(user: User, application: Application) -> bytes:
    """The template filled with the application's saved values (to hand to the enterprise)."""
    return form_docx(blocks_for(application.round, application))


@dataclass
class SectionRows:
    code: str
    heading: str
    rows: list[Comparison]


@dataclass
class DocumentPanel:
    """What the panel shows; ``writer``: the application's own clerk while it may change."""

    application: Application
    stored: StoredFile | None
    state: StoredReading | None
    comparisons: list[Comparison] = field(default_factory=list)
    writer: bool = False

    @property
    def structure(self) -> Structure | None:
        return self.state.reading.structure if self.state and self.state.reading else None

    def _with(self, *matches: Match) -> list[Comparison]:
        return [c for c in self.comparisons if c.match in matches]

    @property
    def differences(self) -> list[Comparison]:
        return self._with(Match.DIFFERENT)

    @property
    def fillable(self) -> list[Comparison]:
        return self._with(Match.FILLABLE)

    @property
    def unreadable(self) -> list[Comparison]:
        return self._with(Match.UNREADABLE)

    @property
    def missing(self) -> list[Comparison]:
        return self._with(Match.MISSING)

    @property
    def blank_message(self) -> str | None:
        """The warning for a document left blank (the unfilled template), if it is one."""
        return blank_document_message(self.comparisons) if self.comparisons else None

    @property
    def unread(self) -> list[Comparison]:
        """The fields the application holds and the document leaves blank, unreadable or out."""
        return unread(self.comparisons)

    @property
    def unread_message(self) -> str | None:
        """The one warning for them (none beside the blank document's)."""
        return unread_message(self.comparisons) if self.comparisons else None

    @property
    def read_count(self) -> int:
        return len(self._with(Match.SAME, Match.DIFFERENT, Match.FILLABLE))

    @property
    def sections(self) -> list[SectionRows]:
        by_key = {c.field.key: c for c in self.comparisons}
        return [SectionRows(s.code, s.heading, [by_key[f.key] for f in s.fields if f.key in by_key])
                for s in self.application.round.form.sections]

    @property
    def can_fill(self) -> bool:
        return self.writer and bool(self.fillable)

    @property
    def can_reread(self) -> bool:
        return (self.writer and self.stored is not None and self.stored.kind in ("docx", "pdf")
                and not self.pending)

    @property
    def pending(self) -> bool:
        """A reading asked for and not finished: the panel refreshes itself until it is."""
        return self.state is not None and self.state.pending


def is_writer(user: User, application: Application) -> bool:
    return is_own_city_clerk(user, application.city_id) and not batch_is_locked(
        application.round_id, application.city_id)


def document_panel(user: User, application: Application) -> DocumentPanel:
    form = application.round.form
    stored = current_form(application.id)
    state = stored_reading(stored.reading, stored.reading_state, form=form) if stored is not None else None
    comparisons = compare(state.reading, application.values(), form=form) if state and state.reading else []
    return DocumentPanel(application, stored, state, comparisons, is_writer(user, application))


def fill_form_data(user: User, application: Application, data: dict[str, Any]) -> list[str]:
    """Put the 申报书's values into the form's empty fields (``data`` is the form's data, as
    ``forms.form_data`` gives it); the keys filled. Nothing is saved."""
    if not is_writer(user, application):
        raise Refused(lock_reason(application.round_id))
    form = application.round.form
    stored = current_form(application.id)
    state = stored_reading(stored.reading, stored.reading_state, form=form) if stored is not None else None
    if state is None or state.reading is None:
        raise Refused("当前申报书没有可用的读取结果，无法填入。")
    filled = []
    for key, value in fill_values(state.reading, application.values(), form=form).items():
        f = form.fields[key]
        data[key] = list(value) if f.kind is Kind.MULTI else format_field(f, value)
        filled.append(key)
    return filled


def document_changed(user: User | None, application: Application) -> None:
    """A new 申报书 (or the previous one restored): the warnings change with what it says. An
    application that passed 初审 and now has open warnings goes back to draft, as after an edit.
    ``user`` is ``None`` when the worker has read the document (no one acted)."""
    evaluation = recheck(application)
    if no_longer_passes(application, evaluation):
        old_comment = clear_review(application)
        record_reverted(user, application, old_comment=old_comment, because="申报书更换后存在未解决的问题，初审状态退回草稿")
    db.session.flush()


def reread_form(user: User, application: Application) -> StoredFile:
    """Ask for the current 申报书 to be read again (e.g. one uploaded before reading existed): a
    worker reads it once this commits. Returns the file."""
    if not is_own_city_clerk(user, application.city_id):
        raise NotFound
    if batch_is_locked(application.round_id, application.city_id):
        raise Refused(lock_reason(application.round_id))
    stored = current_form(application.id)
    if stored is None:
        raise Refused("尚未上传申报书。")
    if stored.reading_state in (ReadingState.PENDING, ReadingState.RUNNING):
        raise Refused("申报书正在读取，请稍候。")
    request_reading(stored)
    record("file.read", user=user, object_type="file", object_id=stored.id, city_id=stored.city_id,
           summary=f"重新读取申报书（{application.title}）：{stored.original_name}",
           after={"state": stored.reading_state})
    db.session.flush()
    return stored


def read_pending_forms(*, everything: bool = False) -> tuple[int, int]:
    """(``flask read-forms``) Ask for every current 申报书 not read yet, or read by an earlier
    version of the reader (``everything``: all of them), to be read by a worker once this
    commits. A reported batch's applications are left as they were reported, and a reading
    already waiting is not asked for twice. Returns (asked for, skipped)."""
    asked = skipped = 0
    rows = db.session.scalars(select(StoredFile).where(
        is_current_form(), StoredFile.application_id.is_not(None)).order_by(StoredFile.id))
    for stored in list(rows):
        data = stored.reading or {}
        if stored.reading_state in (ReadingState.PENDING, ReadingState.RUNNING):
            continue
        if not everything and data.get("version") == READER_VERSION:
            continue
        application = stored.application
        if batch_is_locked(application.round_id, application.city_id):
            skipped += 1
            continue
        request_reading(stored)
        asked += 1
    db.session.flush()
    return asked, skipped
