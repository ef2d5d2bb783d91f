from ingest.sync import SyncReport
from rag.chain import Answer, DoneEvent, SourcesEvent, TokenEvent
from rag.passages import Passage
from rag.render import print_streamed_answer, print_sync_report

SOURCE = Passage(
    1, "warranty.pdf", "/d/warranty.pdf", 3, "", "c1", 0.61, "Send claims to claims@larkspur.example."
)


def test_streamed_answer_then_attributed_citations_then_sources(capsys):
    answer = Answer(
        "q", "Send claims to claims@larkspur.example. [1]", [SOURCE], [1], {}, ["1 source left out"]
    )
    events = [
        SourcesEvent([SOURCE]),
        TokenEvent("Send claims to "),
        TokenEvent("claims@larkspur.example."),
        DoneEvent(answer),
    ]
    print_streamed_answer(events)
    out, err = capsys.readouterr()
    assert out.startswith(
        "Send claims to claims@larkspur.example.\n\nWith citations matched to the sources:\n"
    )
    assert "*[1] warranty.pdf p.3  (score 0.610)" in out and "1 source left out" in err


def test_sync_report_lists_skipped_failed_and_missing(capsys):
    report = SyncReport(
        added=["a"],
        skipped=[{"path": "x.exe", "reason": "unsupported"}],
        failed=[{"path": "b.pdf", "error": "encrypted PDF"}],
        missing=["c.txt"],
        chunks=7,
    )
    print_sync_report(report)
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "1 added, 0 updated, 0 unchanged, 0 removed — 7 chunks in the store"
    assert "skipped x.exe: unsupported" in out and "FAILED  b.pdf: encrypted PDF" in out and "--prune" in out
