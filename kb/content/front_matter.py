"""The YAML an author writes: the front matter block of an article, and YAML mistakes said as what to do.

Apart from :mod:`kb.content.articles` because it is about the text, not the article: where
the block starts and ends, how its YAML is read (dates kept as text, libyaml when there),
and how PyYAML's errors reach an author.  The article's fields and their checks stay
there; the categories file (:mod:`kb.content.categories`), the editor's form and the
importer use this too.
"""

from __future__ import annotations

import re

import yaml

from kb.translation import N_


class _FrontMatterLoader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text, so that the article's
    ``updated`` check (:mod:`kb.content.articles`) validates them.

    PyYAML builds dates itself and raises a bare ValueError on ``2026-13-45``, which would
    reject the whole front matter and hide the file's other problems.  This pure-Python
    one also gives the clearest message for broken YAML.
    """


class _FastFrontMatterLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """The same, on libyaml's parser where PyYAML has it: reading 10k articles takes 2 s
    instead of 10 s."""


_FrontMatterLoader.yaml_implicit_resolvers = _FastFrontMatterLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_front_matter(raw: str):
    """The front matter's YAML as Python values, dates left as text (see the loaders)."""
    try:
        return yaml.load(raw, Loader=_FastFrontMatterLoader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError:
        return yaml.load(raw, Loader=_FrontMatterLoader)  # noqa: S506 - raises again, with the clearer message


def split_front_matter(text: str) -> tuple[str | None, str, int]:
    """Return (front matter YAML or None, body, line number where the YAML starts)."""
    if not text.startswith("---"):
        return None, text, 0
    lines = text.split("\n")
    if lines[0].strip() != "---":
        return None, text, 0
    for i in range(1, len(lines)):
        if lines[i].strip() in ("---", "..."):
            return "\n".join(lines[1:i]), "\n".join(lines[i + 1:]).lstrip("\n"), 2
    raise ValueError(N_("front matter starts with '---' but has no closing '---' line"))


# PyYAML's words for the mistakes authors make most, said as what to do (in the reader's
# language); anything else keeps PyYAML's own (English) description.
_YAML_PROBLEMS = (
    (re.compile(r"mapping values are not allowed here"), N_("a ':' inside a value: put the value in quotes")),
    (re.compile(r"found character '\\t' that cannot start any token"), N_("a tab character: indent with spaces")),
    (re.compile(r"found unexpected end of stream"), N_("a quote is opened but never closed")),
    (re.compile(r"expected ',' or '\]', but got .*"), N_("a list in [brackets] is not closed")),
    (re.compile(r"expected ',' or '\}', but got .*"), N_("a mapping in {braces} is not closed")),
    (re.compile(r"expected <block end>, but found .*"),
     N_("a line does not fit the lines above it (its indentation, or text after a quoted value)")),
    (re.compile(r"found undefined alias .*"), N_("'*' starts a YAML alias: put the value in quotes")),
    (re.compile(r"could not find expected ':'"), N_("a line without 'field: value' (put a value of several lines in "
                                                    "quotes)")),
)


def yaml_problem(exc: yaml.YAMLError) -> str:
    """What is wrong in a YAML text: a Message for a common mistake, else PyYAML's words."""
    problem = getattr(exc, "problem", None)
    if problem:
        for pattern, message in _YAML_PROBLEMS:
            if pattern.fullmatch(problem):
                return message
    return problem or str(exc)
