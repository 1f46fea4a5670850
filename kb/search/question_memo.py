"""The model's reading of recent questions, kept so that asking again costs no model pass.

Most of a hybrid search's time is the model reading the question: its query vectors (the
question, and a dialect question's MSA reading) and its latent terms: about 40 of a search's
54 ms at the median on the 1k stand-in, where the same question searched again takes 10 ms
(``scripts/bench_search.py``).  The same text comes
back often, and not only because customers ask alike:

- the widget searches as the visitor types, then the same text again 1.5 s later to count it
  (``record=1``, ``kb/web/static/widget/widget.js``);
- its page suggestions search the host page's title for every visitor of that page;
- the site's next page of results, a category filter and the back button search the same
  question again, and the contact form searches the question as it is typed and on sending;
- an agent's panel asks again for the same customer message when the conversation is reopened.

The model is deterministic, so a remembered reading gives the very same results.  Keyed by
the model's fingerprint as well as the text: a reloaded or other model never reads another's
vectors.  Bounded, least recently used first out: a reading (one text's vector, or its terms,
at most 256 of them) takes 2 to 3 kB with its key, so the default 2,048 readings (a question
has two or three) about 5 MB.

Under ``kb serve --workers N`` the workers also share their readings through one file
(``kb.search.shared_readings``): a text this process has not read is looked up there
before the model reads it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable
from typing import Hashable
from typing import Sequence
from typing import TypeVar

import numpy as np

from kb.search.shared_readings import SharedReadings

MAX_READINGS = 2048

Reading = TypeVar("Reading")


class QuestionMemo:
    """Per (kind, model fingerprint, text): what the model made of the text.  Owned by a
    KnowledgeBase and shared by its searches (thread-safe)."""

    def __init__(self, max_readings: int = MAX_READINGS) -> None:
        self.max_readings = max_readings
        self._readings: OrderedDict[tuple[Hashable, str], object] = OrderedDict()
        self._lock = threading.Lock()
        self._hits = 0  # readings a search found kept
        self._shared_hits = 0  # readings another worker process had kept
        self._misses = 0  # readings the model had to make
        self.shared: SharedReadings | None = None

    def share_through(self, shared: SharedReadings | None) -> None:
        """Also look up, and keep, readings in `shared` (the worker processes' file; None: this process's only)."""
        self.shared = shared

    def remembered(self, kind: Hashable, texts: Sequence[str],
                   read: Callable[[list[str]], Sequence[Reading]]) -> list[Reading]:
        """Each text's reading: remembered ones as they were, the others from one call of
        `read` (the texts it is given, in order), then remembered.  `kind` names the reading
        and the model that made it (a fingerprint among it).  Arrays are kept read-only: one
        search's reading is every later search's."""
        found: dict[str, Reading] = {}
        with self._lock:
            for text in texts:
                key = (kind, text)
                if key in self._readings:
                    self._readings.move_to_end(key)
                    found[text] = self._readings[key]  # type: ignore[assignment]
            missing = list(dict.fromkeys(text for text in texts if text not in found))
            self._hits += sum(1 for text in texts if text in found)
        shared = self.shared
        from_shared = shared.get_many(kind, missing) if shared is not None and missing else {}
        fresh: list = []
        if missing and len(from_shared) < len(missing):
            unread = [text for text in missing if text not in from_shared]
            fresh = [_frozen(reading) for reading in read(unread)]
            if not fresh:  # a backend that reads nothing of this kind (no latent terms)
                return []
            if len(fresh) != len(unread):
                raise ValueError(f"{len(unread)} texts read as {len(fresh)}")
            found.update(zip(unread, fresh))
            if shared is not None:
                shared.put_many(kind, list(zip(unread, fresh)))
        found.update(from_shared)
        with self._lock:
            self._shared_hits += len(from_shared)
            self._misses += len(fresh)
            if self.max_readings > 0:
                for text in missing:
                    self._readings[(kind, text)] = found[text]
                    self._readings.move_to_end((kind, text))
                while len(self._readings) > self.max_readings:
                    self._readings.popitem(last=False)
        return [found[text] for text in texts]

    def __len__(self) -> int:
        return len(self._readings)

    def stats(self) -> dict:
        """For the health report: how many readings are kept (of at most how many), and since
        the process started how many a search found kept, how many another worker had kept
        (``shared_hits``, under ``kb serve --workers N``: ``shared``) and how many the model made."""
        with self._lock:
            return {"readings": len(self._readings), "max_readings": self.max_readings,
                    "hits": self._hits, "shared": self.shared is not None, "shared_hits": self._shared_hits,
                    "misses": self._misses}

    def clear(self) -> None:
        """Forgets every reading, the shared ones too (a benchmark timing new questions)."""
        with self._lock:
            self._readings.clear()
        if self.shared is not None:
            self.shared.clear()


def _frozen(reading):
    """`reading` with its arrays read-only (a vector, or a tuple of arrays such as latent terms)."""
    if isinstance(reading, np.ndarray):
        reading.flags.writeable = False
    elif isinstance(reading, tuple):
        for part in reading:
            if isinstance(part, np.ndarray):
                part.flags.writeable = False
    return reading
