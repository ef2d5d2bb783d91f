from ingest.sync import SyncReport
from rag.chain import Answer, DoneEvent, SourcesEvent, TokenEvent
from rag.condense import Query
from rag.memory import ConversationStore, Turn
from rag.passages import Passage
from rag.render import print_session, print_sessions, print_streamed_answer, print_sync_report

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


def test_a_rewritten_search_is_shown_before_the_answer(capsys):
    query = Query("How often should I descale the machine?", True, "refers back ('that')")
    print_streamed_answer([SourcesEvent([SOURCE], query), TokenEvent("Every 8 weeks [1].")])
    assert capsys.readouterr().out.startswith("(searching for: How often should I descale the machine?)\n")


def test_sessions_and_one_session_with_its_cited_sources(tmp_path, capsys):
    memory = ConversationStore(tmp_path / "c.sqlite")
    print_sessions(memory.sessions())
    assert "No conversations yet" in capsys.readouterr().out
    session = memory.create()
    source = {"n": 1, "file": "warranty.pdf", "page": 3, "text": "…", "cited": True}
    memory.add_turn(
        session, Turn("Where do claims go?", "Where do claims go?", "To claims@x [1].", [source], [1])
    )
    memory.add_turn(session, Turn("And by post?", "Where do claims go by post?", "Unknown.", [], []))
    print_sessions(memory.sessions())
    print_session(memory.load(session.id))
    out = capsys.readouterr().out
    assert f"{session.id}  " in out and "2 turn(s)  Where do claims go?" in out
    assert "[1] you: Where do claims go?" in out and "    [1] warranty.pdf p.3" in out
    assert "(searched for: Where do claims go by post?)" in out and out.count("searched for") == 1
