from ingest.sync import SyncReport
from rag.chain import Answer, DoneEvent, SourcesEvent, TokenEvent
from rag.citations import strip_markers
from rag.condense import Query
from rag.memory import ConversationStore, Turn
from rag.passages import Passage
from rag.prompts import NOT_FOUND
from rag.render import print_session, print_sessions, print_streamed_answer, print_sync_report
from rag.support import CheckedAnswer, CheckedSentence, Evidence

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
    assert "\nSources:\n [1] warranty.pdf p.3  (score 0.610)" in out and "1 source left out" in err
    assert "not cited" not in out and "Checked against" not in out  # nothing was checked


def test_a_refusal_overruled_by_a_source_sentence_says_so(capsys):
    answer = Answer("q", "Send claims to claims@larkspur.example. [1]", [SOURCE], [1], extracted="refused")
    print_streamed_answer([SourcesEvent([SOURCE]), TokenEvent(NOT_FOUND), DoneEvent(answer)])
    out, _ = capsys.readouterr()
    assert out.startswith(f"{NOT_FOUND}\n\nInstead, the closest source sentence:\nSend claims to claims@")


def test_a_withheld_answer_says_so_and_shows_the_closest_passages(capsys):
    answer = Answer("q", NOT_FOUND, [SOURCE], [], withheld="Bananas are yellow.")
    answer.warnings.append("the model's answer was withheld: the sources support none of it")
    print_streamed_answer([SourcesEvent([SOURCE]), TokenEvent("Bananas are yellow [1]."), DoneEvent(answer)])
    out, err = capsys.readouterr()
    assert out.startswith(
        "Bananas are yellow [1].\n\n"
        f"The sources support none of that answer, so it is withheld; instead:\n{NOT_FOUND}"
    )
    assert "Closest passages (none answers the question):\n [1] warranty.pdf" in out and "withheld" in err


OTHER = Passage(
    2,
    "manual.pdf",
    "/d/manual.pdf",
    9,
    "",
    "c2",
    0.4,
    "Descale the machine every 8 weeks.\nUse the Larkspur descaler, "
    + "which is sold in packs of three bottles and dissolves limescale " * 4,
)


def checked_answer() -> Answer:
    start = OTHER.text.index("Use the")
    sentences = [
        CheckedSentence("Descale every 8 weeks.", (1,), (2,), (Evidence(2, 0, 34, 0.81),)),
        CheckedSentence(
            "Use the Larkspur descaler.", (2,), (2,), (Evidence(2, start, len(OTHER.text), 0.7),)
        ),
        CheckedSentence("Yes.", (), (), (), claim=False),
        CheckedSentence("It also cleans the milk wand.", (2,), ()),
    ]
    checked = CheckedAnswer(sentences)
    return Answer("q", checked.text, [SOURCE, OTHER], checked.cited, checked=checked)


def test_checked_claims_are_shown_with_their_supporting_span_then_cited_and_other_sources(capsys):
    answer = checked_answer()
    print_streamed_answer(
        [SourcesEvent([SOURCE, OTHER]), TokenEvent("Descale every 8 weeks [1]."), DoneEvent(answer)]
    )
    out = capsys.readouterr().out
    block = out.split("Checked against the sources:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert block[:2] == ["  ✓ [2] Descale every 8 weeks.", '      "Descale the machine every 8 weeks."']
    assert block[2] == "  ✓ [2] Use the Larkspur descaler."
    quote = block[3].strip()
    assert (
        quote.startswith('"Use the Larkspur descaler, which') and quote.endswith(' …"') and len(quote) <= 162
    )
    assert block[4:] == [
        "  ✗ not supported by the sources: It also cleans the milk wand."
    ]  # "Yes." is no claim
    sources = out.split("\nSources:\n", 1)[1]
    assert (
        sources.startswith(" [2] manual.pdf p.9")
        and "Also retrieved, not cited:\n [1] warranty.pdf" in sources
    )


def test_an_answer_whose_check_only_moved_markers_is_not_printed_again(capsys):
    words = "Descale every 8 weeks. Use the Larkspur descaler. Yes. It also cleans the milk wand."
    answer = checked_answer()
    assert answer.text != words and strip_markers(answer.text) == words
    print_streamed_answer([SourcesEvent([SOURCE, OTHER]), TokenEvent(words), DoneEvent(answer)])
    out = capsys.readouterr().out
    assert out.startswith(f"{words}\n\nChecked against the sources:\n  ✓ [2] Descale every 8 weeks.")
    changed = [TokenEvent("Descale it monthly [1]."), DoneEvent(answer)]  # the check changed the words
    print_streamed_answer([SourcesEvent([SOURCE, OTHER]), *changed])
    assert "\n\nWith citations matched to the sources:\nDescale every 8 weeks. [2]" in capsys.readouterr().out


def test_a_not_found_answer_lists_the_closest_passages_not_sources(capsys):
    answer = Answer("q", NOT_FOUND, [SOURCE, OTHER], [], weak_evidence=True)
    print_streamed_answer([SourcesEvent([SOURCE, OTHER]), TokenEvent(NOT_FOUND), DoneEvent(answer)])
    out = capsys.readouterr().out
    assert (
        "Closest passages (none answers the question):\n [1] warranty.pdf" in out and " [2] manual.pdf" in out
    )
    assert "Sources:" not in out and "Checked against" not in out


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


def test_sync_report_says_how_many_vectors_were_embedded_and_reused(capsys):
    print_sync_report(SyncReport(added=["a"], updated=["b"], chunks=40, embedded_chunks=3, reused_chunks=9))
    print_sync_report(SyncReport(added=["moved"], chunks=40, reused_chunks=9))
    first, second = capsys.readouterr().out.splitlines()
    assert first.endswith("— 40 chunks in the store (3 embedded now, 9 reused)")
    assert second.endswith("— 40 chunks in the store (9 reused)")


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
    unsupported = {
        "text": "Post works too.",
        "supported": False,
        "cited": [],
        "model_cited": [1],
        "evidence": [],
    }
    memory.add_turn(
        session,
        Turn(
            "And by post?", "Where do claims go by post?", "Post works too.", [], [], sentences=[unsupported]
        ),
    )
    print_sessions(memory.sessions())
    print_session(memory.load(session.id))
    out = capsys.readouterr().out
    assert f"{session.id}  " in out and "2 turn(s)  Where do claims go?" in out
    assert "[1] you: Where do claims go?" in out and "    [1] warranty.pdf p.3" in out
    assert "(searched for: Where do claims go by post?)" in out and out.count("searched for") == 1
    assert "    ✗ not supported by the sources: Post works too." in out
