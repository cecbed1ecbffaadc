"""WSGI entry point for another server (``gunicorn wsgi:app``…). ``make run`` serves through
``python -m xkxl_intranet.serving`` (waitress with the settings chosen for the deadline rush)."""
from xkxl_intranet import create_app

app = create_app()
