"""站内通知: what someone must act on reaches them in the system, not only by a banner they may
never read (models, notify, the list and its page)."""

from . import mailing  # noqa: E402,F401  (each new notice is also mailed: registers the listener)
