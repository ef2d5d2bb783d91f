"""Generation with the real default model: the packaged Qwen2.5-Coder-0.5B GGUF through llama.cpp."""

import hashlib
from functools import partial

import pytest

from rag.chain import Budget, ask, build_chain
from rag.errors import ModelError
from rag.history import history_messages
from rag.llms import build_llm
from rag.packaged import DEFAULT_GGUF, assembled
from rag.retrieve import retrieve
from rag.settings import LLMSettings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    path = assembled(DEFAULT_GGUF, folder)
    assert path.name == DEFAULT_GGUF.name
    return folder


def test_assembled_model_matches_its_checksum_and_is_reused(models_dir):
    path = models_dir / DEFAULT_GGUF.name
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest == DEFAULT_GGUF.sha256
    mtime = path.stat().st_mtime_ns
    assert assembled(DEFAULT_GGUF, models_dir) == path and path.stat().st_mtime_ns == mtime
    assert not list(models_dir.glob("*.partial-*"))


@pytest.fixture(scope="module")
def model(models_dir):
    return build_llm("llamacpp", LLMSettings(n_ctx=2048, max_tokens=80, temperature=0.0), models_dir)


@pytest.fixture
def chain(model, sample_store):
    budget = Budget(model.n_ctx, 80, count_tokens=model.count_tokens)
    return build_chain(partial(retrieve, sample_store, k=3), model.chat, budget)


def test_the_loaded_model_knows_its_context_and_counts_its_own_tokens(model):
    assert model.n_ctx == 2048
    assert 2 <= model.count_tokens("How long is the warranty?") <= 10


def test_default_model_answers_from_the_sources_with_a_citation(chain):
    answer = ask(chain, "Where do I send a warranty claim?")
    assert answer.sources[0].file == "warranty.pdf" and answer.sources[0].page == 3
    assert "claims@larkspur.example" in answer.text.lower(), answer.text
    assert answer.cited and answer.sources[answer.cited[0] - 1].file == "warranty.pdf", answer.text
    assert answer.timings["first_token_ms"] <= answer.timings["total_ms"]


def test_default_model_rewrites_a_follow_up_and_retrieval_keeps_the_thread(chain):
    history = history_messages([("How do I descale the machine?", "Descale it with citric acid [1].")])
    answer = ask(chain, "How often should I do that?", history)
    assert answer.query.condensed and "descal" in answer.standalone.lower(), answer.standalone
    assert answer.standalone != answer.question and "?" in answer.standalone
    assert any(p.heading.endswith("How often to descale") for p in answer.sources), answer.sources
    assert answer.timings["condense_ms"] > 0


def test_a_prompt_longer_than_the_context_is_refused_not_truncated(models_dir):
    from langchain_core.messages import HumanMessage

    small = build_llm("llamacpp", LLMSettings(n_ctx=512, max_tokens=16), models_dir)
    with pytest.raises(ModelError, match="does not fit the model's context"):
        small.chat.invoke([HumanMessage("warranty " * 600)])


def prompt_tokens_evaluated(chat, messages) -> int:
    """How many prompt tokens llama.cpp evaluates to answer `messages` (its own performance counter)."""
    import llama_cpp

    context = chat._llama._ctx.ctx
    llama_cpp.llama_perf_context_reset(context)
    list(chat.stream(messages, max_tokens=1))
    return llama_cpp.llama_perf_context(context).n_p_eval


def test_a_warmed_up_model_answers_as_a_cold_one(models_dir):
    """Also when sampling: the warm-up must not move llama.cpp's seed on."""
    from langchain_core.messages import HumanMessage, SystemMessage

    from rag.prompts import SYSTEM

    sampling = build_llm("llamacpp", LLMSettings(n_ctx=2048, max_tokens=24, temperature=1.0), models_dir)

    source = '<source id="1">\nSend warranty claims by email to claims@larkspur.example.\n</source>'
    messages = [SystemMessage(SYSTEM), HumanMessage(f"Sources:\n{source}\n\nQuestion: Where do claims go?")]
    answers = []
    for warm in (False, True):
        sampling.chat.load(threads=2, batch=512)
        if warm:
            sampling.chat.warm_up(SYSTEM).join()
        answers.append(sampling.chat.invoke(messages).content)
    assert answers[0] == answers[1], answers


def test_an_answer_depends_on_its_prompt_not_on_the_answers_before_it(models_dir):
    """Sampled from one seed and evaluated in the same parts whatever came before: the same prompt gets
    the same answer (llama-cpp-python alone moves its seed on and reuses whatever prefix is cached)."""
    from langchain_core.messages import HumanMessage, SystemMessage

    settings = LLMSettings(n_ctx=2048, max_tokens=16, temperature=1.0)
    sampling = build_llm("llamacpp", settings, models_dir).chat

    def answer(question: str) -> str:
        return sampling.invoke([SystemMessage("Answer briefly."), HumanMessage(question)]).content

    first = answer("Name a colour and a fruit.")
    answer("Name an animal.")
    assert answer("Name a colour and a fruit.") == first
    sampling.load(threads=2, batch=512)  # cold
    assert answer("Name a colour and a fruit.") == first


def test_a_warmed_up_system_message_is_not_evaluated_again(model):
    from langchain_core.messages import HumanMessage, SystemMessage

    from rag.prompts import SYSTEM

    messages = [SystemMessage(SYSTEM), HumanMessage("Sources: none.\n\nQuestion: Where is the boiler?")]
    model.chat.load(threads=2, batch=512)  # an empty cache
    cold = prompt_tokens_evaluated(model.chat, messages)
    model.chat.load(threads=2, batch=512)
    model.chat.warm_up(SYSTEM).join()
    assert model.chat.warm_up(SYSTEM) is None  # already warm: nothing to do
    warm = prompt_tokens_evaluated(model.chat, messages)
    assert cold - warm >= model.count_tokens(SYSTEM), (cold, warm)
    other = [SystemMessage("Reply in French."), messages[1]]
    assert prompt_tokens_evaluated(model.chat, other) > warm  # another system message is evaluated in full
    again = model.chat.warm_up(SYSTEM)  # the cache no longer starts with ours
    assert again is not None
    again.join()
