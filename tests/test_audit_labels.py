"""Every action the code records has a Chinese label on the audit trail page."""
import re
from pathlib import Path

from xkxl_intranet.rounds.models import BatchState
from xkxl_intranet.trail.queries import ACTION_LABELS

PACKAGE = Path(__file__).resolve().parent.parent / "xkxl_intranet"


def test_every_recorded_action_has_a_label():
    actions = set()
    for source in PACKAGE.rglob("*.py"):
        actions |= set(re.findall(r'record\(\s*"([a-z_]+\.[a-z_]+)"', source.read_text(encoding="utf-8")))
    actions |= {f"batch.{state.value}" for state in BatchState if state.value in ("accepted", "returned")}
    assert len(actions) > 20
    missing = sorted(a for a in actions if a not in ACTION_LABELS)
    assert not missing, missing
