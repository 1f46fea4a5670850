"""Reading and checking dialect lexicon files: the built-in one and the editors' ``_dialect.yml``.

Apart from ``kb.search.dialect`` (what a lexicon is and how a question is read with it)
because reading files is another idea: YAML, each problem named by file, line and what is
wrong (``kb check`` and the staff synonyms page show them), and re-reading when a file
changes.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

import yaml

from kb.errors import Problem
from kb.search.dialect import BUILTIN_PATH
from kb.search.dialect import DIALECTS
from kb.search.dialect import FILE_NAME
from kb.search.dialect import MAX_FORM_WORDS
from kb.search.dialect import DialectLexicon
from kb.search.dialect import Entry
from kb.search.dialect import Meaning
from kb.search.dialect import form_key

logger = logging.getLogger("kb.search.dialect")  # the name these warnings have always had
_ENTRY_KEYS = {"msa", "weight", "keep", "note", *DIALECTS}




def parse_lexicon(text: str, file: str = FILE_NAME) -> tuple[DialectLexicon, list[Problem]]:
    """Parse and validate a lexicon file; every problem names the file, the entry's line and what is wrong."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        return DialectLexicon(), [Problem(file, None, f"invalid YAML{where}: {getattr(exc, 'problem', exc)}")]
    if root is None:
        return DialectLexicon(), []
    if not isinstance(root, yaml.SequenceNode):
        return DialectLexicon(), [Problem(file, f"line {root.start_mark.line + 1}",
                                          "must be a list of entries (- msa: ..., egy: [...])")]
    entries: list[Entry] = []
    meanings: dict[tuple[str, ...], Meaning] = {}
    problems: list[Problem] = []
    for node in root.value:
        line = node.start_mark.line + 1
        entry, entry_problems = _parse_entry(node, file, line)
        problems.extend(entry_problems)
        if entry is None:
            continue
        entries.append(entry)
        for code, form in entry.forms:
            key = form_key(form)
            earlier = meanings.get(key)
            if earlier is not None and earlier.line != line:
                problems.append(Problem(file, f"line {line}", f"{form!r} is already an entry at line {earlier.line}"))
                continue
            if earlier is not None:  # the same form listed for several dialects of one entry
                meanings[key] = Meaning(earlier.msa, earlier.alternatives, earlier.keep,
                                        tuple(dict.fromkeys((*earlier.dialects, code))), file, line)
                continue
            meanings[key] = Meaning(form_key(entry.msa[0]) if entry.msa else (), tuple(form_key(a)[0] for a in entry.msa[1:]),
                                    entry.keep, (code,), file, line)
    return DialectLexicon(tuple(entries), meanings), problems


def _parse_entry(node, file: str, line: int) -> tuple[Entry | None, list[Problem]]:
    where = f"line {line}"
    if not isinstance(node, yaml.MappingNode):
        return None, [Problem(file, where, "an entry must be a mapping such as {msa: أريد, egy: [عايز]}")]
    data = yaml.safe_load(yaml.serialize(node))
    problems = [Problem(file, where, f"unknown key {key!r} (allowed: {', '.join(sorted(_ENTRY_KEYS))})")
                for key in data if key not in _ENTRY_KEYS]
    msa = _strings(data.get("msa"))
    no_weight = data.get("weight") is not None
    if no_weight and data.get("weight") != "none":
        problems.append(Problem(file, where, "weight can only be 'none' (a form with no search weight)"))
    if msa is None:
        problems.append(Problem(file, where, "msa must be a word or phrase, or a list of them"))
    elif bool(msa) == no_weight:
        problems.append(Problem(file, where, "give either msa (the MSA form) or weight: none, not both or neither"))
    keep = data.get("keep", False)
    if not isinstance(keep, bool) or (keep and no_weight):
        problems.append(Problem(file, where, "keep must be true or false, and needs an msa form"))
    for alternative in (msa or [])[1:]:
        if len(form_key(alternative)) != 1:
            problems.append(Problem(file, where, f"MSA alternative {alternative!r} must be one word"))
    if msa and not form_key(msa[0]):
        problems.append(Problem(file, where, f"MSA form {msa[0]!r} has no word in it"))
    forms: list[tuple[str, str]] = []
    for code in DIALECTS:
        values = _strings(data.get(code))
        if values is None:
            problems.append(Problem(file, where, f"{code} must be a word or a list of words"))
            continue
        for form in values:
            size = len(form_key(form))
            if not 1 <= size <= MAX_FORM_WORDS:
                problems.append(Problem(file, where, f"form {form!r} must be one to {MAX_FORM_WORDS} words"))
            else:
                forms.append((code, form))
    if not forms and not any(p.reason.startswith("form") for p in problems):
        problems.append(Problem(file, where, f"no dialect forms: list them under {', '.join(DIALECTS)}"))
    if problems:
        return None, problems
    return Entry(tuple(msa or ()), tuple(forms), keep, str(data.get("note") or ""), line), []


def _strings(value) -> list[str] | None:
    """A string or a list of strings as a list; None when it is something else."""
    if value is None:
        return []
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return [str(value)]
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value):
        return [str(v) for v in value]
    return None


def load_builtin(path: Path = BUILTIN_PATH) -> DialectLexicon:
    """The lexicon shipped with kb, parsed once per file version (a bad built-in file is a
    bug, caught by the tests: it raises)."""
    return _parsed_builtin(Path(path), _mtime(Path(path)))


@lru_cache(maxsize=2)
def _parsed_builtin(path: Path, mtime: float) -> DialectLexicon:
    lexicon, problems = parse_lexicon(path.read_text(encoding="utf-8"), path.name)
    if problems:
        raise ValueError("; ".join(str(p) for p in problems))
    return lexicon


def load_local(articles_dir: Path) -> tuple[DialectLexicon, list[Problem]]:
    """The editors' ``articles/_dialect.yml`` (empty when there is none)."""
    path = Path(articles_dir) / FILE_NAME
    if not path.exists():
        return DialectLexicon(), []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return DialectLexicon(), [Problem(FILE_NAME, None, f"cannot read: {exc}")]
    return parse_lexicon(text, FILE_NAME)


class LexiconFiles:
    """The built-in lexicon merged with an articles folder's local one, re-read when either
    file's mtime changes (like ``KnowledgeBase.synonyms()``).  One per knowledge base.

    A local file with problems is logged once per version and its good entries still apply
    (``kb check`` and the staff page refuse to save a bad one)."""

    def __init__(self, articles_dir: Path, builtin_path: Path = BUILTIN_PATH):
        self.articles_dir = Path(articles_dir)
        self.builtin_path = builtin_path
        self._kept: tuple[tuple[float, float], DialectLexicon] | None = None

    def current(self) -> DialectLexicon:
        stamps = (_mtime(self.builtin_path), _mtime(self.articles_dir / FILE_NAME))
        kept = self._kept
        if kept is None or kept[0] != stamps:
            local, problems = load_local(self.articles_dir)
            for problem in problems:
                logger.warning("dialect lexicon: %s", problem)
            kept = self._kept = (stamps, load_builtin(self.builtin_path).merged(local))
        return kept[1]


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0
