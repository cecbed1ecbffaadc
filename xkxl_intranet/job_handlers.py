"""Everything a worker runs, registered by name in ``jobs.queue.HANDLERS``: importing this module
is what makes a process able to run jobs (the worker; a test process that runs them inline). It
imports the document readers and writers, which the web process never does."""
from __future__ import annotations

from . import print_job
from .applications import reading_job
from .auth.onboarding import slip_job
from .files import template_job
from .mail import sending

__all__ = ["print_job", "reading_job", "sending", "slip_job", "template_job"]
