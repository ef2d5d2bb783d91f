from PIL import Image

from rag.compare import bar_chart, metric_names, table

RESULTS = [
    {"config": "dense", "hit@1": 0.5, "hit@5": 0.8, "mrr": 0.6, "recall@5_multi_doc": None,
     "retrieve_ms_p50": 40.0, "retrieve_ms_p95": 50.0},
    {"config": "hybrid-rrf", "hit@1": 0.7, "hit@5": 0.9, "mrr": 0.75, "recall@5_multi_doc": 0.5,
     "retrieve_ms_p50": 45.5, "retrieve_ms_p95": 58.0, "lexical_ms_p50": 3.0, "lexical_ms_p95": 4.5},
]  # fmt: skip


def test_metrics_missing_anywhere_are_left_out():
    assert metric_names(RESULTS) == ["hit@1", "hit@5", "mrr"]


def test_table_has_a_row_per_configuration():
    lines = table(RESULTS).splitlines()
    assert lines[0].split() == ["config", "hit@1", "hit@5", "mrr", "retrieve_ms", "lexical_ms"]
    assert lines[2].split() == ["dense", "0.5", "0.8", "0.6", "40.0/50.0", "-"]
    assert lines[3].split()[-2:] == ["45.5/58.0", "3.0/4.5"]
    assert lines[3].split()[0] == "hybrid-rrf" and len(lines) == 4


def test_bar_chart_is_a_png(tmp_path):
    path = bar_chart(RESULTS, "aragog (98 questions)", tmp_path / "out" / "chart.png")
    with Image.open(path) as image:
        assert image.format == "PNG" and image.width > 300 and image.height > 200
