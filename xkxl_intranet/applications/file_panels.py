"""What the files pages show of an application: one box per category (its files, whether this
user may upload or delete here, the messages of the last upload) and the whole panel. The
city's 附件3 scan is a box of the same kind (``reports/summary_scan.py``).

Built from plain values for the acting ``user``; the templates build the URLs from the ids
(``application_id``, ``category.key``), and ``return_to`` (where a plain form comes back to)
is worked out by the route.

For other domains: :func:`files_context`, the context of
``{% include "files/_application_files.html" %}``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..auth.models import User
from ..auth.scoping import is_own_city_clerk
from ..files.categories import Category, application_categories
from ..files.models import StoredFile
from ..files.operations import Message, max_upload_mb
from ..files.queries import application_files, current_version, missing_requirements, upload_refusal
from ..files.upload_rules import accept_attribute, describe_kinds
from .models import Application, ReviewState


@dataclass
class Section:
    """One category's box: its files, its upload form and what happened on the last upload."""

    category: Category
    files: list[StoredFile]
    dom_id: str
    return_to: str  # where a plain (non-htmx) form comes back to
    application_id: int | None = None  # None: the city's 汇总表 scan
    can_upload: bool = False  # the upload form is shown
    deletable: set[int] = field(default_factory=set)  # ids of the files this user may delete
    messages: list[Message] = field(default_factory=list)
    notice: str = ""  # what is wrong with the current file (the 附件3 scan is stale)

    @property
    def current(self) -> StoredFile | None:
        return current_version(self.files) if self.category.versioned else None

    @property
    def accept(self) -> str:
        return accept_attribute(self.category.kinds)

    @property
    def formats(self) -> str:
        return describe_kinds(self.category.kinds)

    @property
    def multiple(self) -> bool:
        return not self.category.versioned


@dataclass
class FilePanel:
    application: Application
    sections: list[Section]
    missing: list[str]
    max_upload_mb: int
    readonly: bool
    requirements_id: str
    refusal: str | None = None  # why this clerk cannot upload now (e.g. the batch is reported)

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.category.key == key)


def files_context(user: User, application: Application, *, return_to: str, readonly: bool = False,
                  messages: dict[str, list[Message]] | None = None) -> dict[str, Any]:
    """Context for ``{% include "files/_application_files.html" %}``: ``application`` and
    ``file_panel``. Only the application's own city clerk gets the upload form (while the
    batch is not reported) and the delete buttons (while the application is a draft);
    ``readonly=True`` hides them for everyone. ``messages``: per category key, what the last
    upload or deletion said. ``return_to``: where a plain form comes back to."""
    writer = not readonly and is_own_city_clerk(user, application.city_id)
    refusal = upload_refusal(application) if writer else None
    deletes = writer and application.review_state == ReviewState.DRAFT
    files = application_files(application)
    sections = [
        Section(category=c, files=files[c.key], dom_id=f"files-{application.id}-{c.key}",
                return_to=return_to, application_id=application.id,
                can_upload=writer and refusal is None,
                deletable={f.id for f in files[c.key]} if deletes else set(),
                messages=list((messages or {}).get(c.key) or ()))
        for c in application_categories(application.round.declaration.files)]
    panel = FilePanel(application=application, sections=sections,
                      missing=missing_requirements(application, files),
                      max_upload_mb=max_upload_mb(), readonly=readonly,
                      requirements_id=f"file-requirements-{application.id}", refusal=refusal)
    return {"application": application, "file_panel": panel}
