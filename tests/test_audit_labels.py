"""Every action the code writes to the audit log has a label in both places that show it:
kb.store.audit (the stored default) and kb.web.labels (the staff page, through the catalogs)."""

from __future__ import annotations

import re
from pathlib import Path

from kb.store.audit import ACTION_LABELS
from kb.web.labels import AUDIT_LABELS

ROOT = Path(__file__).resolve().parents[1] / "kb"
RECORDED = re.compile(r"""audit\.record\(\s*[^,]+,\s*["']([a-z_]+)["']""")


def test_every_recorded_action_has_a_label():
    actions = {m.group(1) for path in ROOT.rglob("*.py") for m in RECORDED.finditer(path.read_text(encoding="utf-8"))}
    assert len(actions) > 20  # the pattern still finds them
    assert actions - ACTION_LABELS.keys() == set()
    assert actions - AUDIT_LABELS.keys() == set()
