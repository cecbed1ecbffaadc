"""WSGI entry point: ``waitress-serve wsgi:app`` (what ``make run`` does)."""
from xkxl_intranet import create_app

app = create_app()
