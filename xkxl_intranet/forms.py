"""The base of every form: Flask-WTF's CSRF and re-display, with WTForms' own messages (a
number that is not one, a choice that was not offered) in Chinese. Flask-WTF would translate
them only through Flask-Babel, which this app does not need; WTForms ships the catalogue."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms.i18n import get_translations


class Form(FlaskForm):
    class Meta:
        locales = ("zh",)

        def get_translations(self, form):
            return get_translations(self.locales)
