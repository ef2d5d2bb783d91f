import pytest

from rag.repeats import stop_repeats


def streamed(text: str, size: int = 3) -> str:
    return "".join(stop_repeats(text[i : i + size] for i in range(0, len(text), size)))


LOOP = (
    "The MLM loss is a loss used to train the model. [5] It masks the teacher's words. [5] "
    "The MLM loss is a loss used to train the model. [5] The MLM loss is a loss"
)


@pytest.mark.parametrize("size", [1, 2, 3, 7, 500])
def test_an_answer_ends_before_its_first_repeated_sentence_whatever_the_chunks(size):
    assert (
        streamed(LOOP, size)
        == "The MLM loss is a loss used to train the model. [5] It masks the teacher's words. [5] "
    )


def test_a_repeated_line_ends_the_answer_and_its_list_number_and_case_do_not_hide_it():
    text = "Waves:\n1. The virus of the 1918 flu [3]\n2. The second wave came\n3. the Virus of the 1918 flu"
    assert streamed(text) == "Waves:\n1. The virus of the 1918 flu [3]\n2. The second wave came\n"


def test_an_answer_that_ends_inside_a_repeat_loses_the_repeat():
    assert streamed("The lid is blue and round. The lid is blue and round") == "The lid is blue and round. "


def test_short_repeated_items_near_repeats_and_answers_without_repeats_pass_whole():
    items = "Symptoms: [2]\n- Cyanosis\n- Cough with vomit [1]\n- Whoop\n- Cough with vomit [1]\n- Fever"
    near = "The lid is blue and round. The lid is blue and square. The lid is blue."
    code = "Run:\n```\nfor i in range(n):\n    a(i)\nfor i in range(n):\n    b(i)\n```\nThen it works."
    for text in [items, near, code, "Two days [1].", ""]:
        assert streamed(text) == text


def test_words_that_may_begin_a_repeat_are_held_only_until_they_differ():
    pieces = list(stop_repeats(["The lid is blue and round. ", "The lid ", "is red."]))
    assert pieces == ["The lid is blue and round. ", "The lid is red."]


@pytest.mark.parametrize("size", [1, 2, 3, 7])
def test_a_phrase_said_over_and_over_ends_the_answer_after_two_sayings(size):
    words = "The model is trained in the " + "intermediate " * 14 + "[5]"
    assert streamed(words, size) == "The model is trained in the intermediate intermediate "
    assert streamed("A, B, C, D, " * 3 + "A, B", size) == "A, B, C, D, A, B, C, D, "
    assert streamed("Yes. " * 14, size) == "Yes. Yes. "


@pytest.mark.parametrize("size", [1, 3])
def test_a_phrase_said_twice_or_three_times_in_passing_is_kept(size):
    text = "It is a zero-shot zero-shot method. The values were 0, 0, 0 and 1; A, B, A, B, A, B here."
    assert streamed(text, size) == text


@pytest.mark.parametrize("size", [1, 2, 3, 7, 500])
def test_a_run_of_too_many_markers_ends_the_answer(size):
    counting = "The fatality rate is [1] [2][3] " + " ".join(f"[{n}]" for n in range(4, 97)) + " ["
    ten = "The fatality rate is [1] [2][3] [4] [5] [6] [7] [8] [9] [10]"
    assert streamed(counting, size).rstrip() == ten  # the space after the tenth may have gone out
    cited = "It is 3% [1] [2] [3] [4] [5]. Later [1, 2] [3] [4] [5] [6] [7] [8] [9] [10] it fell."
    assert streamed(cited, size) == cited  # ten in a row, and runs split by words, pass
