"""The llama.cpp adapter with a stubbed completion and no model (the real one: test_llamacpp_real.py)."""

from langchain_core.messages import HumanMessage

from rag.llms.llamacpp import LlamaCppChat

LOOP = ["The lid ", "is blue. ", "It ships ", "in two days. "] + ["The lid ", "is blue. "] * 200


def test_an_answer_that_starts_looping_is_ended_and_generation_stops(monkeypatch):
    pulled = []

    def completion(self, messages, stop, max_tokens):
        for text in LOOP:
            pulled.append(text)
            yield {"choices": [{"delta": {"content": text}}]}

    monkeypatch.setattr(LlamaCppChat, "_completion", completion)
    chat = LlamaCppChat(model_path="unused.gguf", n_ctx=4096, max_tokens=512, temperature=0.1)
    answer = "".join(chunk.content for chunk in chat.stream([HumanMessage("How long does shipping take?")]))
    assert answer == "The lid is blue. It ships in two days. "
    assert len(pulled) <= 8  # llama.cpp was asked for no more tokens after the repeat, not for all 404
    assert chat._lock.acquire(timeout=5)  # and the stream let go of the model for the next answer
