"""Editor-kept synonyms: ``articles/_synonyms.yml``, a list of equivalence groups.

Each group is a list of words or phrases that mean the same to a customer, e.g.
``[استرجاع, استرداد, إرجاع, refund]``.  Entries are analyzed with the keyword pipeline,
so a group matches whatever form the customer typed (with ال, with hamza or without).
Expansion happens at query time: editing the file changes search at once, no re-index.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from functools import cached_property
from pathlib import Path

import yaml

from kb.errors import Problem
from kb.text import is_arabic
from kb.text import is_stopword
from kb.search.dialect import map_words
from kb.search.dialect_files import load_builtin as load_dialect_lexicon
from kb.text import tokenize

FILE_NAME = "_synonyms.yml"


@dataclass(frozen=True)
class SynonymTable:
    groups: tuple[tuple[tuple[str, ...], ...], ...] = field(default_factory=tuple)
    # The entries' words as editors wrote them (normalized, lower case; stop words and words of
    # one or two letters left out, as "did you mean" leaves them alone): words a question can
    # mean though no article writes them ("email" leads to البريد الإلكتروني), so a misspelling
    # of one is a typo worth correcting (kb.search.spelling.did_you_mean).
    words: frozenset[str] = field(default_factory=frozenset)

    def expansions(self, stems: tuple[str, ...]) -> list[tuple[str, ...]]:
        """Stem sequences to add for a query: the other members of every group it mentions."""
        found: list[tuple[str, ...]] = []
        for group in self.groups:
            if any(names_entry(stems, entry) for entry in group):
                found.extend(entry for entry in group if not names_entry(stems, entry))
        return list(dict.fromkeys(found))

    def one_word_synonyms(self, stem: str) -> list[str]:
        """The one-word members of every group that has `stem` as a one-word member (phrases
        left out), for matching one word at a time (the proximity coverage)."""
        return [other[0] for group in self.groups if (stem,) in group
                for other in group if len(other) == 1 and other[0] != stem]

    def holds(self, stem: str) -> bool:
        """Whether a word of some group's entry is `stem`: a word the editors name."""
        return stem in self._stems

    @cached_property
    def _stems(self) -> frozenset[str]:
        """Every entry's stems, once per table (the Arabizi reading asks for each Latin word)."""
        return frozenset(stem for group in self.groups for entry in group for stem in entry)

    def weighted_expansions(self, stems: tuple[str, ...]) -> list[tuple[tuple[str, ...], float]]:
        """:meth:`expansions`, each with how much it counts: Latin-script members of a group
        an Arabic question named count ``CROSS_SCRIPT_WEIGHT``, every other member 1.

        Groups cross languages (``[العميل, الزبون, customer]``) so that an editor keeps one
        list, but "customer" in an Arabic question's keyword query only reaches English
        articles (translations, folded into their originals anyway) and the English words
        inside Arabic ones (names, acronyms, references), not better Arabic answers.  The
        other way stays whole: in an Arabic-first help center the Arabic members are an
        English question's bridge to the many articles that exist only in Arabic (down-weighting
        them cost English questions top-1 0.69 -> 0.54 on scripts/data/helpcenter_questions.jsonl).
        A question that names the group in both scripts gets both.
        """
        found: dict[tuple[str, ...], float] = {}
        for group in self.groups:
            named = [entry for entry in group if names_entry(stems, entry)]
            if not named:
                continue
            scripts = {_script(entry) for entry in named}
            for entry in group:
                if entry not in named:
                    crossing = _script(entry) == "latin" and scripts == {"arabic"}
                    weight = CROSS_SCRIPT_WEIGHT if crossing else 1.0
                    found[entry] = max(found.get(entry, 0.0), weight)
        return list(found.items())


# How much a Latin-script synonym counts for an Arabic question (SynonymTable.weighted_expansions).
CROSS_SCRIPT_WEIGHT = 0.5


def _script(entry: tuple[str, ...]) -> str:
    return "arabic" if any(is_arabic(stem) for stem in entry) else "latin"


def names_entry(stems: tuple[str, ...], entry: tuple[str, ...]) -> bool:
    """Whether the question's stems hold the synonym entry (one word or a phrase) in order."""
    n = len(entry)
    return any(stems[i:i + n] == entry for i in range(len(stems) - n + 1))


def parse_synonyms(text: str, file: str = FILE_NAME) -> tuple[SynonymTable, list[Problem]]:
    """Parse and validate the synonyms YAML: a list of lists of strings."""
    try:
        data = yaml.safe_load(text) or []
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        return SynonymTable(), [Problem(file, None, f"invalid YAML{where}: {getattr(exc, 'problem', exc)}")]
    if not isinstance(data, list):
        return SynonymTable(), [Problem(file, None, "must be a list of groups, each a list of words or phrases")]
    groups = []
    words: set[str] = set()
    problems = []
    for i, group in enumerate(data, 1):
        if not isinstance(group, list) or len(group) < 2:
            problems.append(Problem(file, f"group {i}", "must be a list of at least two words or phrases"))
            continue
        entries = []
        named: set[str] = set()
        for item in group:
            # Through the dialect lexicon, as questions are: a group that names a dialect
            # form ("مصاري") must match the MSA words the question is searched with.
            tokens = tokenize(str(item))
            stems = map_words(tokens, load_dialect_lexicon()).stems
            if not stems:
                problems.append(Problem(file, f"group {i}", f"{item!r} has no searchable word (only stop words?)"))
                continue
            entries.append(stems)
            named.update(token for token in tokens if len(token) >= 3 and not is_stopword(token))
        if len(set(entries)) >= 2:
            groups.append(tuple(dict.fromkeys(entries)))
            words.update(named)
    return SynonymTable(tuple(groups), frozenset(words)), problems


def load_synonyms(articles_dir: Path) -> tuple[SynonymTable, list[Problem]]:
    path = Path(articles_dir) / FILE_NAME
    if not path.exists():
        return SynonymTable(), []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return SynonymTable(), [Problem(FILE_NAME, None, f"cannot read: {exc}")]
    return parse_synonyms(text)
