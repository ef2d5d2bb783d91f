from rag.history import history_messages, trim_history
from rag.prompts import estimate_tokens


def test_turns_become_alternating_messages_without_old_markers():
    messages = history_messages(
        [("What is covered?", "The pump [1] and boiler [2, 3]."), ("And?", "Nothing else.")]
    )
    assert [m.type for m in messages] == ["human", "ai", "human", "ai"]
    assert messages[1].content == "The pump and boiler." and messages[2].content == "And?"


def test_trimming_keeps_the_latest_whole_turns_within_budget():
    turns = [(f"question {i}?", "answer " * 30) for i in range(10)]
    kept = trim_history(history_messages(turns), max_tokens=200)
    assert kept and kept[0].type == "human" and kept[-1].content.startswith("answer")
    assert kept[0].content == f"question {10 - len(kept) // 2}?"
    assert sum(estimate_tokens(m.content) + 8 for m in kept) <= 200


def test_no_budget_or_no_history_gives_nothing():
    assert trim_history(history_messages([("q?", "a")]), 0) == []
    assert trim_history([], 500) == []
