"""settings.yaml, validated once into a typed, frozen object.

Only the entry points (CLI, page) call `load_settings`; library code receives the parts it needs as
arguments. This module does not read environment variables: the CLI maps `ASKDOCS_STORE` onto `--store`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from rag.errors import SettingsError

T = TypeVar("T")
PACKAGED_EMBEDDING_MODEL = "all-MiniLM-L6-v2"
PACKAGED_GGUF_EMBEDDING_MODEL = "nomic-embed-text-v1.5"  # a GGUF, run by llama.cpp (see rag.embeddings)


@dataclass(frozen=True)
class CosineScale:
    """Where an embedding model's question-passage cosines lie, measured per model family (README): below
    `weak`, the evidence is weak (`retrieval.min_score` when not set); above `gate_floor`, the best passage
    adds to the refusal gate's grounding (`answers.passage_weight`)."""

    weak: float
    gate_floor: float


DEFAULT_SCALE = CosineScale(weak=0.35, gate_floor=0.35)  # all-MiniLM-L6-v2, and any model not measured
SCALE_BY_FAMILY = {"nomic-embed-text": CosineScale(weak=0.65, gate_floor=0.5)}  # its cosines run higher


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StoreSettings(_Section):
    path: Path = Path("vectorstore")
    collection: str = Field("askdocs", min_length=3, max_length=60, pattern=r"^[a-zA-Z0-9][a-zA-Z0-9._-]*$")
    server: str = ""  # empty: embedded Chroma in <path>/chroma; else a Chroma server, http://HOST:PORT

    @field_validator("server")
    @classmethod
    def _server_url(cls, value: str) -> str:
        """Empty, or an http(s) URL with a host and a port and nothing else (a trailing slash is dropped)."""
        value = value.strip().rstrip("/")
        if not value:
            return ""
        try:
            url = urlsplit(value)
            port = url.port  # ValueError when not a number or out of range
        except ValueError:
            port = None
        if not port or url.scheme not in ("http", "https") or not url.hostname or "@" in url.netloc:
            raise ValueError(
                "expected http://HOST:PORT or https://HOST:PORT of a Chroma server (empty: embedded)"
            )
        if url.path or url.query or url.fragment:
            raise ValueError("expected only http://HOST:PORT, without a path or query")
        return value


class EmbeddingSettings(_Section):
    model: str = PACKAGED_EMBEDDING_MODEL
    batch_size: int = Field(8, ge=1, le=4096)  # measured: see README (embeddings.batch_size)
    device: str = "cpu"
    query_threads: int = Field(1, ge=0, le=256)  # CPU threads for one question (0: the runtime's default)
    backend: Literal["onnx", "torch", "onnx-int8"] = "onnx"  # see rag.embeddings (GGUF models: llama.cpp)
    query_prefix: str | None = None  # before a question (None: the model's own: nomic's "search_query: ")
    document_prefix: str | None = None  # before a passage (None: the model's own)
    # The model that compares sentences (the support check, evidence, sentence vectors); the answers.*
    # thresholds were measured with all-MiniLM-L6-v2. Empty: `model`.
    sentence_model: str = PACKAGED_EMBEDDING_MODEL

    @model_validator(mode="after")
    def _onnx_on_cpu(self) -> EmbeddingSettings:
        if self.backend != "torch" and self.device != "cpu":
            raise ValueError(f"embeddings.backend '{self.backend}' runs on the CPU only: set device: cpu")
        return self

    @property
    def identity(self) -> str:
        """What a collection records as its embedding model: the model, plus the backend for int8 (its
        vectors differ, so a collection built with one must not be queried with the other). `onnx` and
        `torch` give the same vectors to within rounding, so a collection may switch between them."""
        int8 = self.backend == "onnx-int8" and not self.is_gguf
        return f"{self.model}+{self.backend}" if int8 else self.model

    @property
    def is_gguf(self) -> bool:
        """Whether `model` is a GGUF file run by llama.cpp (`backend` then does not apply)."""
        return self.model == PACKAGED_GGUF_EMBEDDING_MODEL or self.model.lower().endswith(".gguf")

    @property
    def for_sentences(self) -> EmbeddingSettings:
        """The settings of the model that compares sentences: `sentence_model`, run as configured."""
        name = self.sentence_model or self.model
        if name == self.model:
            return self
        return self.model_copy(update={"model": name, "query_prefix": None, "document_prefix": None})


class ChunkingSettings(_Section):
    size: int = Field(800, ge=100, le=20000)
    overlap: int = Field(120, ge=0, le=5000)
    context_prefix: bool = True  # embed "title | heading" before each chunk's text
    max_file_mb: int = Field(100, ge=1, le=1_000_000)  # larger files are skipped, with the reason
    sentence_vectors: bool = False  # embed each chunk's sentences at ingest too (rag.sentence_vectors)

    @property
    def max_file_bytes(self) -> int:
        return self.max_file_mb * 1024 * 1024

    @property
    def recipe(self) -> str:
        """Everything that shapes chunks; a file ingested with another recipe is ingested again."""
        recipe = f"size={self.size};overlap={self.overlap};prefix={int(self.context_prefix)}"
        return recipe + (";sentences=1" if self.sentence_vectors else "")


class RetrievalSettings(_Section):
    k: int = Field(5, ge=1, le=100)
    candidates: int = Field(30, ge=1, le=500)  # chunks each retriever (dense, lexical) proposes
    lexical: bool = True  # BM25 over title, heading and text, fused with the dense ranking
    fusion: Literal["scores", "rrf"] = "scores"  # min-max rescaled scores added, or reciprocal rank fusion
    lexical_weight: float = Field(1.0, ge=0.0, le=10.0)  # the lexical ranking's weight (dense: 1.0)
    rrf_k: float = Field(60.0, ge=1.0, le=1000.0)  # reciprocal rank fusion constant (fusion: rrf)
    file_weight: float = Field(1.0, ge=0.0, le=10.0)  # weight of the whole file's BM25 match (0: off)
    rerank: bool = True  # reorder the top candidates by their best-matching sentence (rag.rerank)
    rerank_depth: int = Field(10, ge=2, le=100)  # how many fused candidates the rerank reorders
    rerank_weight: float = Field(0.25, ge=0.0, le=1.0)  # best sentence's word match's share of the new score
    file_penalty: float = Field(0.0, ge=0.0, le=10.0)  # fused-score margin a file's next passage must beat
    max_per_file: int = Field(0, ge=0, le=100)  # at most this many of the k passages per file (0: no cap)
    # best cosine below this: weak evidence (0: never); unset or null in a file: the model's own (Settings)
    min_score: float = Field(DEFAULT_SCALE.weak, ge=0.0, le=1.0)


class LLMSettings(_Section):
    spec: str = "llamacpp"
    n_ctx: int = Field(4096, ge=512, le=131072)
    max_tokens: int = Field(384, ge=1, le=32768)
    temperature: float = Field(0.1, ge=0.0, le=2.0)
    seed: int = Field(0, ge=0, le=2**31 - 1)  # every answer sampled from it: same prompt, same answer
    threads: int = Field(2, ge=1, le=256)
    ollama_url: str = "http://127.0.0.1:11434"


class ChatSettings(_Section):
    history_tokens: int = Field(
        600, ge=0, le=65536
    )  # recent turns kept in the prompt; older ones are left out
    condense: Literal["auto", "always", "never"] = "auto"  # rewrite follow-ups into standalone questions


class AnswerSettings(_Section):
    check_citations: bool = True  # check each answer sentence against the sources (rag.support)
    support_threshold: float = Field(0.6, ge=0.0, le=1.0)  # support score a source span must reach
    prompt: Literal["cite", "quote", "short"] = "cite"  # the answer prompt (rag.prompts.PROMPTS)
    evidence_sentences: int = Field(6, ge=0, le=200)  # prompt shows the best N source sentences (0: all)
    answer_type_weight: float = Field(0.1, ge=0.0, le=1.0)  # raise sentences holding the asked-for kind
    min_evidence: float = Field(0.62, ge=0.0, le=2.0)  # the evidence's grounding below this: not found
    file_credit: float = Field(0.5, ge=0.0, le=1.0)  # share of a word's weight when only the file holds it
    passage_weight: float = Field(0.5, ge=0.0, le=2.0)  # best passage cosine's margin over the model's floor
    extractive_fallback: bool = False  # an answer the sources don't support -> the closest source sentence
    strong_evidence: float = Field(0.55, ge=0.0, le=1.0)  # model's "not found" -> closest sentence (0: never)
    withhold_unsupported: float = Field(
        0.55, ge=0.0, le=1.0
    )  # unsupported answer, weaker evidence: not found
    withhold_support: float = Field(
        0.55, ge=0.0, le=1.0
    )  # ... unless a claim's support comes this near (1: off)


class UISettings(_Section):
    host: str = "127.0.0.1"  # the page listens on loopback only unless changed deliberately
    port: int = Field(8501, ge=1, le=65535)
    upload_max_mb: int = Field(50, ge=1, le=2048)  # largest document the page accepts


class Settings(_Section):
    store: StoreSettings = StoreSettings()
    embeddings: EmbeddingSettings = EmbeddingSettings()
    chunking: ChunkingSettings = ChunkingSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    llm: LLMSettings = LLMSettings()
    chat: ChatSettings = ChatSettings()
    answers: AnswerSettings = AnswerSettings()
    ui: UISettings = UISettings()

    @model_validator(mode="before")
    @classmethod
    def _min_score_for_model(cls, raw: Any) -> Any:
        """`retrieval.min_score` left out or null: the threshold measured for the embedding model."""
        if not isinstance(raw, dict):
            return raw
        retrieval = raw.get("retrieval")
        if isinstance(retrieval, dict) and retrieval.get("min_score") is not None:
            return raw
        if retrieval is not None and not isinstance(retrieval, dict):
            return raw  # a RetrievalSettings built in code, or a bad value the section's own check names
        model = _model_name(raw.get("embeddings"))
        return {**raw, "retrieval": {**(retrieval or {}), "min_score": cosine_scale(model).weak}}

    def with_store(self, path: Path) -> Settings:
        """A copy whose store lives at `path`."""
        return self.model_copy(update={"store": self.store.model_copy(update={"path": path})})


def for_family(model: str, table: Mapping[str, T], default: T) -> T:
    """The entry of `table` for `model`'s family: the key its name (a packaged name, a folder's or a
    file's) starts with; `default` when none does."""
    name = Path(model).name
    return next((value for family, value in table.items() if name.startswith(family)), default)


def cosine_scale(model: str) -> CosineScale:
    """The cosine scale measured for `model`'s family."""
    return for_family(model, SCALE_BY_FAMILY, DEFAULT_SCALE)


def _model_name(embeddings: Any) -> str:
    if isinstance(embeddings, EmbeddingSettings):
        return embeddings.model
    if isinstance(embeddings, dict) and isinstance(embeddings.get("model"), str):
        return embeddings["model"]
    return PACKAGED_EMBEDDING_MODEL


def load_settings(path: Path | None) -> Settings:
    """Read and validate a settings file (`None`: the defaults). Relative paths resolve against its folder."""
    if path is None:
        return _resolve_paths(Settings(), Path.cwd())
    raw = _read_yaml(path)
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        raise SettingsError(f"{path}: {_first_problem(exc)}") from None
    return _resolve_paths(settings, path.resolve().parent)


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise SettingsError(f"settings file not found: {path} (pass --settings FILE or create it)")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path} is not valid YAML: {exc}".splitlines()[0]) from None
    except RecursionError:
        raise SettingsError(f"{path} is not valid YAML: nested too deeply") from None
    except OSError as exc:
        raise SettingsError(f"cannot read settings file {path}: {exc.strerror or exc}") from None
    except (
        Exception
    ) as exc:  # PyYAML's constructors raise ValueError, IndexError, ... ("2001-13-41", "!!int")
        raise SettingsError(
            f"{path} is not valid YAML: a value cannot be read ({exc})".splitlines()[0]
        ) from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise SettingsError(f"{path}: expected a mapping of sections (store, embeddings, ...) at the top")
    return raw


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    loc = list(error["loc"])
    if error["type"] == "invalid_key":  # a key that is not text (false, 3, null); its loc shows false as 0
        loc[-1] = error["input"]
    key = ".".join(str(part) for part in loc) if loc else "(top level)"  # a key may be ''
    key = key if key.isprintable() else repr(key)[1:-1]  # a line break in a key would break the one line
    if error["type"] in ("extra_forbidden", "invalid_key"):
        return f"unknown key '{key}' (check the spelling against README's settings table)"
    return f"bad value for '{key}': {error['msg']}"


def _resolve_paths(settings: Settings, base: Path) -> Settings:
    store = settings.store.path if settings.store.path.is_absolute() else base / settings.store.path
    settings = settings.with_store(store)
    embeddings = settings.embeddings
    models = {key: _resolve_model(getattr(embeddings, key), base) for key in ("model", "sentence_model")}
    return settings.model_copy(update={"embeddings": embeddings.model_copy(update=models)})


def _resolve_model(model: str, base: Path) -> str:
    """A model path relative to the settings file's folder made absolute; a packaged name stays."""
    packaged = model in ("", PACKAGED_EMBEDDING_MODEL, PACKAGED_GGUF_EMBEDDING_MODEL)
    if packaged or Path(model).is_absolute() or not (base / model).exists():
        return model
    return str(base / model)


def update_settings_file(path: Path, changes: dict[str, dict[str, Any]]) -> Settings:
    """Write `{section: {key: value}}` into a settings file, keeping its comments; validated first.

    Returns the new settings (paths resolved as `load_settings` does). Nothing is written when a value is
    refused; the error names the key."""
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    for section, values in changes.items():
        for key, value in values.items():
            text = _set_yaml_value(text, section, key, value)
    try:
        raw = yaml.safe_load(text) or {}
        Settings.model_validate(raw)
    except ValidationError as exc:
        raise SettingsError(f"{path}: {_first_problem(exc)}") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(path.name + ".tmp")
    scratch.write_text(text, encoding="utf-8")
    scratch.replace(path)
    return load_settings(path)


def _set_yaml_value(text: str, section: str, key: str, value: Any) -> str:
    """`text` with `section.key` set to `value`: the line replaced in place (comment kept), or added."""
    rendered = yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.rstrip() == f"{section}:"), None)
    if start is None:
        return text.rstrip("\n") + f"\n\n{section}:\n  {key}: {rendered}\n"
    end = next((i for i in range(start + 1, len(lines)) if lines[i][:1] not in ("", " ", "#")), len(lines))
    for i in range(start + 1, end):
        match = re.match(rf"^(\s+){re.escape(key)}:\s*([^#]*?)(\s*#.*)?$", lines[i])
        if match:
            lines[i] = f"{match.group(1)}{key}: {rendered}{match.group(3) or ''}"
            return "\n".join(lines) + "\n"
    lines.insert(start + 1, f"  {key}: {rendered}")
    return "\n".join(lines) + "\n"
