"""The wings of kb/ (STYLE.md, "Recommended layout"): no import runs back up a floor.

store < content < search < knowledge and the modules on it < web; the ground floor (config,
errors, text, urls, fsutil, translation, arabic_messages) imports no wing, and the CLI's
helpers (cli_support) and commands never reach into the web, but for ``kb serve``.  Checked
on the source (every ``import`` and ``from … import``, inside functions too), so a lazy import
cannot hide."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

KB = Path(__file__).resolve().parents[1] / "kb"
GROUND = {"config", "errors", "text", "urls", "fsutil", "translation", "arabic_messages", "background"}
# The KnowledgeBase and the modules it is made of (its reading, writing and reporting sides).
KNOWLEDGE = ("kb.knowledge", "kb.live_index", "kb.health", "kb.indexer")
# What each floor must never import.
FORBIDDEN = {
    "store": ("kb.content", "kb.search", *KNOWLEDGE, "kb.publishing", "kb.publish_", "kb.web", "kb.cli"),
    "content": ("kb.search", *KNOWLEDGE, "kb.publishing", "kb.publish_", "kb.web", "kb.cli"),
    "search": (*KNOWLEDGE, "kb.search_results", "kb.publishing", "kb.publish_", "kb.web", "kb.cli", "kb.watcher"),
    "ground": ("kb.store", "kb.content", "kb.search", *KNOWLEDGE, "kb.web", "kb.cli"),
    # The KnowledgeBase is what the features on it (publishing, replication, the watcher) use.
    "knowledge": ("kb.publishing", "kb.publish_", "kb.taxonomy", "kb.assist", "kb.watcher", "kb.replication",
                  "kb.web", "kb.cli"),
    # The helpers every command uses: a message, a setting or the database, never a Flask view's
    # module (only ``kb serve``, in kb/cli_serve.py, starts the web app); the command modules too.
    "cli_support": ("kb.web",),
    # Publishing (the editor's write path) serves the staff views and knows nothing of them.
    "publishing": ("kb.web", "kb.cli"),
}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _floor_files():
    for floor in ("store", "content", "search"):
        for path in sorted((KB / floor).rglob("*.py")):
            yield floor, path
    for name in sorted(GROUND):
        yield "ground", KB / f"{name}.py"
    for name in sorted({*KNOWLEDGE, "kb.search_results"}):
        yield "knowledge", KB / f"{name.removeprefix('kb.')}.py"
    for path in sorted(KB.glob("cli*.py")):
        if path.name != "cli_serve.py":
            yield "cli_support", path
    for path in sorted([KB / "publishing.py", *KB.glob("publish_*.py")]):
        yield "publishing", path


@pytest.mark.parametrize(("floor", "path"), list(_floor_files()), ids=lambda v: str(v).rsplit("kb/", 1)[-1])
def test_no_import_runs_back_up(floor, path):
    """GIVEN a module of a lower floor
    WHEN its imports are read
    THEN none of them names a higher floor."""
    upward = sorted(name for name in _imports(path) if name.startswith(FORBIDDEN[floor])
                    and name.split(".")[:2] != ["kb", floor])
    assert upward == [], f"{path.relative_to(KB.parent)} imports {upward}"


def test_click_commands_live_only_in_cli():
    """GIVEN every module of kb/
    WHEN they are searched for click command decorators
    THEN only kb/cli.py and its command modules (kb/cli_*.py) declare commands (cli_support has
    helpers, no commands; no wing declares one)."""
    declaring = sorted(str(path.relative_to(KB.parent)) for path in KB.rglob("*.py")
                       if "@click.command" in path.read_text(encoding="utf-8")
                       or "@click.group" in path.read_text(encoding="utf-8"))
    assert declaring == sorted(str(path.relative_to(KB.parent)) for path in KB.glob("cli*.py")
                               if path.name != "cli_support.py")
