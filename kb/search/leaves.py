"""A Whoosh reader's segments, each with the offset of its first document.

Everything kb caches per index state is keyed by segment (``segment().segment_id()``):
posting lists, vocabularies, passages, filter masks.  Whoosh's ``leaf_readers()`` yields a
reader's atomic parts, but an index with no segment at all (no article yet, or every
article deleted) is read by an ``EmptyReader`` that stands as its own single leaf with no
segment: every search of an empty help center failed on it.  Iterating
:func:`segment_leaves` instead, such an index simply has no leaves.
"""

from __future__ import annotations


def segment_leaves(reader) -> list[tuple[object, int]]:
    """(per-segment reader, document offset) for each segment of `reader`; none when it has no segment."""
    return [(leaf, offset) for leaf, offset in reader.leaf_readers() if leaf.segment() is not None]
