"""The README documents every setting (as datasette's tests/test_docs.py does)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kb.config import SETTING_FIELDS

README = Path(__file__).resolve().parent.parent / "README.md"
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$")


def section_text(markdown: str, title: str) -> str | None:
    """The text under the first heading whose title starts with `title`, up to the next
    heading of the same or a higher level (its subsections included)."""
    lines = markdown.split("\n")
    for start, line in enumerate(lines):
        match = _HEADING.match(line)
        if match and match.group(2).strip().lower().startswith(title.lower()):
            level = len(match.group(1))
            body = []
            for other in lines[start + 1:]:
                heading = _HEADING.match(other)
                if heading and len(heading.group(1)) <= level:
                    break
                body.append(other)
            return "\n".join(body)
    return None


@pytest.fixture(scope="module")
def configuration_section() -> str:
    assert README.exists(), "README.md is missing: it must document every setting under 'Configuration'"
    section = section_text(README.read_text(encoding="utf-8"), "Configuration")
    assert section is not None, "README.md has no section headed 'Configuration'"
    return section


@pytest.mark.parametrize("name", sorted(SETTING_FIELDS))
def test_readme_documents_setting(configuration_section, name):
    assert re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", configuration_section), (
        f"setting {name!r} is not documented in README.md's Configuration section"
    )


def test_readme_names_the_environment_variable_form(configuration_section):
    """Readers need to know how a setting maps to its KB_* variable."""
    assert "KB_" in configuration_section


def test_section_text_stops_at_the_next_heading_of_the_same_level():
    text = "# kb\n## Configuration\nport\n### Search\nrrf_k\n## Usage\nhost\n"
    assert section_text(text, "Configuration") == "port\n### Search\nrrf_k"
    assert section_text(text, "Missing") is None
