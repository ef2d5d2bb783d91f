"""Side-by-side retrieval configurations: a plain-text table and a bar chart (PNG, matplotlib `Agg`).

Takes the summaries `rag.evaluate.run_eval` returns for several configurations of the same collection.
This module does not run retrieval and does not read settings files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

_STAGES = ("retrieve", "dense", "lexical", "fusion", "files", "rerank", "diversity")


def metric_names(results: list[dict[str, Any]]) -> list[str]:
    """The quality metrics present in every result, in report order (hits, MRR, recalls, answer found)."""
    first = results[0]
    names = [name for name in first if name.startswith(("hit@", "mrr", "recall@", "answer_found@"))]
    return [name for name in names if all(r.get(name) is not None for r in results)]


def table(results: list[dict[str, Any]]) -> str:
    """One row per configuration: its name, the quality metrics, latency p50/p95 (ms) of each stage run."""
    stages = [s for s in _STAGES if any(f"{s}_ms_p50" in r for r in results)]
    columns = ["config", *metric_names(results), *(f"{s}_ms" for s in stages)]
    rows = [
        [r["config"], *(str(r[m]) for m in metric_names(results)), *map(_latency(r), stages)] for r in results
    ]
    widths = [max(len(column), *(len(row[i]) for row in rows)) for i, column in enumerate(columns)]
    lines = [_line(columns, widths), _line(["-" * w for w in widths], widths)]
    return "\n".join(lines + [_line(row, widths) for row in rows])


def _latency(result: dict[str, Any]):
    def cell(stage: str) -> str:
        if f"{stage}_ms_p50" not in result:
            return "-"
        return f"{result[f'{stage}_ms_p50']}/{result[f'{stage}_ms_p95']}"

    return cell


def _line(cells: list[str], widths: list[int]) -> str:
    return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()


def bar_chart(results: list[dict[str, Any]], title: str, path: Path) -> Path:
    """Grouped bars: one group per metric, one bar per configuration; written to `path`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = metric_names(results)
    width = 0.8 / len(results)
    figure, axes = plt.subplots(figsize=(max(6.0, len(metrics) * (1.0 + 0.35 * len(results))), 4.5))
    for index, result in enumerate(results):
        offsets = [m + (index - (len(results) - 1) / 2) * width for m in range(len(metrics))]
        bars = axes.bar(offsets, [result[m] for m in metrics], width, label=result["config"])
        axes.bar_label(bars, fmt="%.2f", fontsize=7, padding=1)
    axes.set_xticks(range(len(metrics)), metrics)
    axes.set_ylim(0, 1.08)
    axes.set_title(title)
    axes.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=min(len(results), 4))
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path
