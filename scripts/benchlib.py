"""Small helpers the benchmark scripts share: percentiles, process memory, the question set."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile with linear interpolation (numpy's default), nan for no values."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def rss_mb() -> float:
    """Resident memory of this process in MB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def load_questions() -> list[str]:
    """The benchmark's real customer questions and agent messages, without duplicates."""
    questions = []
    for name, key in (("questions.jsonl", "question"), ("messages.jsonl", "message")):
        path = ROOT / "scripts" / "data" / name
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    questions.append(json.loads(line)[key])
    return list(dict.fromkeys(questions))


STANDIN_MARKER = "STANDIN-VECTORS"


def standin_warning(index_dir: Path) -> str | None:
    """A warning to print if this index's vectors are stand-ins (scripts/standin_vectors.py)."""
    if (Path(index_dir) / STANDIN_MARKER).exists():
        return (f"NOTE: {index_dir} holds stand-in vectors (each passage's first words, embedded): "
                "its speed and memory numbers are real, its search quality is not")
    return None
