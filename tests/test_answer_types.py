import pytest

from rag.answer_types import asked_kind, holds_kind


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How long does the warranty last?", "duration"),
        ("What is the incubation period of MERS-CoV?", "duration"),
        ("When was version 2.4.0 released?", "date"),
        ("In which year was the virus first identified?", "date"),
        ("How many patients were enrolled?", "number"),
        ("What is the price of the shower screen?", "number"),
        ("What percentage of the cases were severe?", "number"),
        ("What are coronaviruses?", None),
        ("How have the risk factors changed over the reporting period?", None),  # a period, not asked for
        ("How does the training duration affect the model?", None),
        ("Why does the pump hum?", None),
    ],
)
def test_the_kind_of_answer_a_question_asks_for(question, kind):
    assert asked_kind(question) == kind


@pytest.mark.parametrize(
    ("sentence", "kind", "holds"),
    [
        ("Your machine is protected by a two-year limited warranty.", "duration", True),
        ("Symptoms appear within 2-14 days of exposure.", "duration", True),
        ("Accessories are covered for six months.", "duration", True),
        ("The limited warranty protects you against manufacturing defects.", "duration", False),
        ("The counter records when the machine was last descaled.", "duration", False),
        ("The virus was identified in January.", "date", True),
        ("Version 2.4.0 was released on 2025-12-09.", "date", True),
        ("The virus was identified in bats.", "date", False),
        ("The virus may spread in the spring.", "date", False),
        ("The first case was reported on 9 May.", "date", True),
        ("Of the patients, 45% had a fever.", "number", True),
        ("Most of the patients had a fever.", "number", False),
    ],
)
def test_whether_a_sentence_holds_an_answer_of_a_kind(sentence, kind, holds):
    assert holds_kind(sentence, kind) is holds


def test_a_number_the_question_holds_is_not_the_sentences_answer():
    question = "How many HIV-1 infections were reported in 2019?"
    assert not holds_kind("HIV-1 infections were reported in 2019.", "number", question)
    assert holds_kind("In 2019, 340 HIV-1 infections were reported.", "number", question)
