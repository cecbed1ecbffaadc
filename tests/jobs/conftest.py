"""What the tests that start a real worker share."""
from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def instance(app) -> Path:
    """The test app's instance, as a worker started on its own sees it (instance/config.py), its
    jobs going to the instance's queue."""
    app.config["JOBS_INLINE"] = False
    folder = Path(app.instance_path)
    (folder / "config.py").write_text('SECRET_KEY = "test-secret-key"\nJOBS_WORKERS = 1\n', encoding="utf-8")
    return folder
