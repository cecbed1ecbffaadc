"""Checking an application: the rules of ``domain/checks.py`` on what is typed or stored, plus
the duplicates across the round (a query), stored as counts for lists and the dashboard."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import or_, select

from ..domain.checks import check_parsed, check_values
from ..domain.declaration import Form
from ..domain.duplicates import DuplicateHit, org_code_key, platform_key
from ..domain.evaluation import Evaluation
from ..domain.form_compare import document_findings
from ..domain.form_reader import FormReading
from ..domain.parsing import ParsedInput
from ..extensions import db
from ..files.queries import current_form
from ..files.reading_state import stored_reading
from ..rounds.models import City, Round
from .models import Application


def _hits(own_id: int | None, own_city_id: int, keys: dict[str, str | None],
          rows: Iterable[Application]) -> list[DuplicateHit]:
    hits = []
    for other in rows:
        if other.id == own_id:
            continue
        for kind, mine, theirs in (("credit_code", keys["credit_code"], other.org_code_key),
                                   ("platform_name", keys["platform_name"], other.platform_key)):
            if mine and mine == theirs:
                hits.append(DuplicateHit(kind, other.id, other.city.name, other.enterprise_name or "",
                                         other.platform_name or "", other.city_id == own_city_id))
    return hits


def find_duplicates(round_id: int, city_id: int, own_id: int | None, *, org_key: str | None,
                    platform: str | None) -> list[DuplicateHit]:
    """Other applications of the round, in any city, with the same code or platform."""
    conditions = []
    if org_key:
        conditions.append(Application.org_code_key == org_key)
    if platform:
        conditions.append(Application.platform_key == platform)
    if not conditions:
        return []
    # Deliberately not scoped: a clerk must learn that another city put the same enterprise
    # forward. Only the city, enterprise and platform names are shown, never a link.
    rows = db.session.scalars(select(Application).where(
        Application.round_id == round_id, Application.id != (own_id or 0), or_(*conditions)))
    return _hits(own_id, city_id, {"credit_code": org_key, "platform_name": platform}, rows)


def duplicates_for(application: Application) -> list[DuplicateHit]:
    return find_duplicates(application.round_id, application.city_id, application.id,
                           org_key=application.org_code_key, platform=application.platform_key)


def current_form_reading(application_id: int | None, form: Form) -> FormReading | None:
    """What the application's current 申报书 says, as read when it was uploaded, of the fields
    ``form`` (its round's) declares."""
    stored = current_form(application_id)
    return stored_reading(stored.reading, form=form).reading if stored is not None and stored.reading else None


def evaluate(application: Application) -> Evaluation:
    """Check the stored values (the same rules as typing, import and reporting), the duplicates
    and what the uploaded 申报书 says."""
    form = application.round.form
    result = check_values(application.values(), clerk_city_code=application.city.code, form=form)
    document = document_findings(current_form_reading(application.id, form), result.values, form=form)
    return Evaluation.of(result, duplicates_for(application), application.acknowledgements, document)


def evaluate_input(typed: ParsedInput, *, city: City, round_: Round,
                   application: Application | None) -> Evaluation:
    """Check what the clerk is typing (read once, :func:`parsing.parse_input`), before anything
    is saved."""
    result = check_parsed(typed, clerk_city_code=city.code, form=round_.form)
    hits = find_duplicates(round_.id, city.id, application.id if application else None,
                           org_key=org_code_key(result.values.get("credit_code")),
                           platform=platform_key(result.values.get("platform_name")))
    document = document_findings(current_form_reading(application.id if application else None, round_.form),
                                 result.values, form=round_.form)
    return Evaluation.of(result, hits, application.acknowledgements if application else None, document)


def recheck(application: Application, evaluation: Evaluation | None = None) -> Evaluation:
    """The one place the stored counts are computed (the lists, the dashboard, 报送 and the
    reminder read them without checking again): every write that can change what the checks say
    of ``application`` (its values, its acknowledgements, its 申报书, a duplicate elsewhere, a
    new version's rules) ends here. ``evaluation``: the evaluation of exactly what is now stored,
    when the caller has it already (a save has checked what it stores)."""
    if evaluation is None:
        evaluation = evaluate(application)
    _store_counts(application, evaluation)
    return evaluation


def _store_counts(application: Application, evaluation: Evaluation) -> None:
    application.error_count = len(evaluation.errors)
    application.warning_count = len(evaluation.warnings)
    application.open_warning_count = len(evaluation.open_warnings)


def refresh_counts(application_ids: Iterable[int]) -> None:
    """Re-evaluate applications whose duplicate status may have changed."""
    ids = set(application_ids)
    if not ids:
        return
    for other in db.session.scalars(select(Application).where(Application.id.in_(ids))):
        recheck(other)


def recount_all(batch_size: int = 500) -> int:
    """Check every stored application again under the rules of this version and store its counts
    where they changed; returns how many changed. A new version may change what blocks (a sum
    below its whole became a warning): counts stored under the old rules would otherwise keep a
    list saying 「有错误」 and 报送 listing a blocker the application no longer has, until the clerk
    next saves it. Run by ``init-db`` (the upgrade step) and ``flask recheck``."""
    changed = 0
    last_id = 0
    while True:
        batch = list(db.session.scalars(select(Application).where(Application.id > last_id)
                                        .order_by(Application.id).limit(batch_size)))
        if not batch:
            return changed
        for application in batch:
            before = (application.error_count, application.warning_count, application.open_warning_count)
            recheck(application)
            changed += before != (application.error_count, application.warning_count,
                                  application.open_warning_count)
        last_id = batch[-1].id
        db.session.flush()
