"""An announcement's attachment kept in the one file storage: checked by content against the
kinds below, within ``MAX_UPLOAD_MB``, hashed (SHA-256), moved under a random storage name and
removed again if the transaction does not commit: all of it ``files.operations.checked_upload``
and ``files.storage``, as for every other upload."""
from __future__ import annotations

from werkzeug.datastructures import FileStorage

from ..clock import now
from ..extensions import db
from ..files.operations import checked_upload
from ..files.storage import move_into_storage, path_for, remove_unless_committed
from ..files.upload_rules import EVIDENCE_KINDS, describe_kinds
from .models import Announcement, AnnouncementAttachment

# The notice's PDF, a template .docx/.xlsx, their WPS and OFD forms, images, a ZIP of several.
ATTACHMENT_KINDS = EVIDENCE_KINDS
ATTACHMENT_KINDS_TEXT = describe_kinds(ATTACHMENT_KINDS)


def attach(announcement: Announcement, upload: FileStorage) -> AnnouncementAttachment:
    """Keep one uploaded file with ``announcement``. Raises ``FileRejected`` (a ``Refused``
    naming the file): nothing of it is kept. Flushes."""
    with checked_upload(upload, allowed=ATTACHMENT_KINDS) as (name, temp, detected):
        storage_name, size, digest = move_into_storage(temp)
    remove_unless_committed(db.session, path_for(storage_name))
    attachment = AnnouncementAttachment(
        original_name=name, storage_name=storage_name, size=size, sha256=digest,
        kind=detected.kind, mime=detected.mime, uploaded_at=now())
    announcement.attachments.append(attachment)
    db.session.flush()
    return attachment
