"""Imports every domain's models so that Alembic and ``db.create_all`` see them all."""
from .announcements.models import Announcement  # noqa: F401
from .applications.models import Application  # noqa: F401
from .audit.models import AuditEvent  # noqa: F401
from .auth.models import User  # noqa: F401
from .auth.second_factor.models import RecoveryCode, SecondFactor  # noqa: F401
from .files.models import StoredFile  # noqa: F401
from .mail.models import MailMessage  # noqa: F401
from .notifications.models import Notification  # noqa: F401
from .review.models import Assignment, Conflict, ReviewRound  # noqa: F401
from .rounds.models import City, CityBatch, Receipt, Round  # noqa: F401
