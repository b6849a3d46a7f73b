"""Figures as the table prints them: each with its target, what was measured, the baseline it
was measured beside, and whether the target was met. A figure that could not be measured
faithfully says "n/a" and why, never a number made up."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

MET, MISSED, NA, INFO = "met", "MISSED", "n/a", "info"


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def p95(values: Sequence[float]) -> float:
    """Nearest-rank 95th percentile: a value that was really measured."""
    ordered = sorted(values)
    return float(ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)])


def ms(seconds: float) -> str:
    if seconds < 0.1:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def secs(seconds: float) -> str:
    return f"{seconds:.2f} s"


def kib(n: float) -> str:
    return f"{n / 1024:.1f} KiB"


def mib(kib_value: float) -> str:
    return f"{kib_value / 1024:.0f} MB"


@dataclass
class Figure:
    name: str
    target: str
    measured: str = "n/a"
    baseline: str = ""
    ratio: str = ""
    verdict: str = NA
    note: str = ""


@dataclass
class Samples:
    """Measurements of one figure, collected across repetitions (failures keep their reason)."""

    values: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def add(self, value: float) -> None:
        self.values.append(value)

    def fail(self, reason: str) -> None:
        self.failures.append(reason)

    def __bool__(self) -> bool:
        return bool(self.values)


def figure(
    name: str,
    target: str,
    subject: Samples,
    *,
    show: Callable[[float], str],
    stat: str = "p95",
    limit: float | None = None,
    baseline: Samples | None = None,
    baseline_stat: str = "median",
    ratio_limit: float | None = None,
    note: str = "",
) -> Figure:
    """A figure from samples: `stat` of the subject against `limit` (lower is better), the
    baseline's `baseline_stat` beside it and the ratio of the two (against `ratio_limit`)."""
    out = Figure(name, target, note=note)
    if not subject:
        reason = subject.failures[0] if subject.failures else "nothing was measured"
        out.note = f"n/a: {reason}"
        return out
    value = _stat(subject.values, stat)
    detail = f"{stat} {show(value)}"
    if stat != "median" and len(subject.values) > 1:
        detail += f" (median {show(median(subject.values))})"
    out.measured = f"{detail} n={len(subject.values)}"
    if subject.failures:
        out.note = (out.note + "; " if out.note else "") + f"{len(subject.failures)} failed"
    ratio: float | None = None
    if baseline is not None:
        if baseline:
            base = _stat(baseline.values, baseline_stat)
            out.baseline = f"{baseline_stat} {show(base)}"
            if base > 0:
                ratio = value / base
                out.ratio = f"{ratio:.2f}x"
        else:
            why = baseline.failures[0] if baseline.failures else "not measured"
            out.baseline = "n/a"
            out.note = (out.note + "; " if out.note else "") + f"baseline n/a: {why}"
    if ratio_limit is not None:
        out.verdict = NA if ratio is None else (MET if ratio <= ratio_limit else MISSED)
    else:
        out.verdict = INFO if limit is None else (MET if value <= limit else MISSED)
    return out


def _stat(values: Sequence[float], stat: str) -> float:
    if stat == "median":
        return median(values)
    if stat == "p95":
        return p95(values)
    if stat == "max":
        return max(values)
    if stat == "min":
        return min(values)
    raise ValueError(stat)


def not_measured(name: str, target: str, reason: str) -> Figure:
    return Figure(name, target, note=f"n/a: {reason}")


def render(figures: Sequence[Figure]) -> str:
    """A plain-text table (Markdown-compatible), one figure per row, notes beneath."""
    head = ("Figure", "Target", "Measured", "Baseline", "Ratio", "Verdict")
    rows = [
        (f.name, f.target, f.measured, f.baseline or "-", f.ratio or "-", f.verdict)
        for f in figures
    ]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    out = [line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out.extend(line(r) for r in rows)
    notes = [(i, f.note) for i, f in enumerate(figures, 1) if f.note]
    if notes:
        out.append("")
        out.extend(f"- {figures[i - 1].name}: {note}" for i, note in notes)
    return "\n".join(out)
