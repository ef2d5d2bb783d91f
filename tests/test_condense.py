import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from rag.condense import Query, build_condenser, clean_rewrite, fallback_rewrite, plan_condense
from rag.history import history_messages

HISTORY = history_messages([("How long is the warranty on the Nimbus K2?", "Two years [1].")])


@pytest.mark.parametrize(
    ("question", "condensed", "reason"),
    [
        ("What does it not cover?", True, "refers back ('it')"),
        ("Are those parts covered?", True, "refers back ('those')"),
        ("and what about last year?", True, "continues the conversation ('and')"),
        ("What about the Pro model?", True, "continues the conversation ('what about')"),
        ("Why?", True, "too short to stand alone"),
        ("How long does the boiler take to heat up?", False, "self-contained"),
        ("How was the survey designed?", False, "self-contained"),
        (
            "What changes in accounting practices did NVIDIA report in its latest 10-Q?",
            False,
            "self-contained",
        ),
        ("Which machines do they make?", True, "refers back ('they')"),
    ],
)
def test_the_cheap_check_decides_when_a_rewrite_is_needed(question, condensed, reason):
    assert plan_condense(question, HISTORY) == Query(question, condensed, reason)


def test_no_history_or_mode_never_skips_and_always_forces():
    assert plan_condense("What does it cost?", []).reason == "no history"
    assert not plan_condense("What does it cost?", HISTORY, "never").condensed
    assert plan_condense("How long does the boiler take to heat up?", HISTORY, "always").condensed


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Rewritten question: What does the warranty not cover?", "What does the warranty not cover?"),
        ('"What does the warranty not cover?"\nExtra chatter.', "What does the warranty not cover?"),
        (
            "The warranty does not cover wear.",
            "How long is the warranty on the Nimbus K2? What does it not cover?",
        ),
        ("", "How long is the warranty on the Nimbus K2? What does it not cover?"),
        ("?" * 400, "How long is the warranty on the Nimbus K2? What does it not cover?"),
    ],
)
def test_rewrites_are_cleaned_and_unusable_ones_fall_back_to_the_topic(raw, expected):
    assert clean_rewrite(raw, "What does it not cover?", HISTORY) == expected


def test_fallback_keeps_the_previous_question():
    assert fallback_rewrite("and the Pro?", HISTORY).startswith("How long is the warranty")
    assert fallback_rewrite("and the Pro?", []) == "and the Pro?"


def test_condenser_sends_the_transcript_and_returns_the_timed_rewrite():
    seen = []

    class Recording(FakeListChatModel):
        def _call(self, messages, stop=None, run_manager=None, **kwargs):
            seen.append((messages, stop))
            return super()._call(messages, stop, run_manager, **kwargs)

    llm = Recording(responses=["What does the Nimbus K2 warranty not cover?"])
    plan = plan_condense("What does it not cover?", HISTORY)
    query = build_condenser(llm).invoke({"question": plan.text, "history": HISTORY, "plan": plan})
    assert query.text == "What does the Nimbus K2 warranty not cover?" and query.condensed and query.ms >= 0
    messages, stop = seen[0]
    assert stop == ["\n"] and "User: How long is the warranty" in messages[-1].content
    assert "Assistant: Two years." in messages[-1].content  # old citation markers are gone


def test_without_a_model_a_follow_up_is_joined_to_the_previous_question():
    plan = plan_condense("What does it not cover?", HISTORY)
    query = build_condenser(None).invoke({"question": plan.text, "history": HISTORY, "plan": plan})
    assert query.text == "How long is the warranty on the Nimbus K2? What does it not cover?"
    assert query.condensed and query.reason == plan.reason
