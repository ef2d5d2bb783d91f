"""The one error hierarchy of askdocs.

Every message says what to do next. The CLI turns these into one line on stderr and an exit code;
nothing here prints or exits.

    AskdocsError                 anything askdocs reports to a person
    ├── UsageError               a developer or user mistake: bad settings, bad arguments (exit 2)
    │   ├── SettingsError        settings.yaml is unreadable or a key is wrong (names the key)
    │   ├── UnknownBackendError  an --llm spec that names no backend
    │   ├── StorePathError       the store path is not usable as a folder (e.g. it is a file)
    │   └── SessionNotFoundError no stored conversation has that id (or the prefix is ambiguous)
    └── RunError                 something failed while running (exit 1)
        ├── StoreError           the vector store cannot be opened or used
        │   ├── EmbeddingMismatchError  the store was built with another embedding model
        │   └── StoreBusyError   another process holds the store's write lock
        ├── ModelError           a model file or package is missing, corrupt or fails to load
        ├── BackendUnavailableError  a model server (Ollama) cannot be reached
        └── DatasetError         an evaluation folder is not laid out as docs/ + qa.jsonl

Per-file ingestion failures are not exceptions that stop a run: they are collected in the sync report.
"""


class AskdocsError(Exception):
    """Base of every error askdocs reports to a person."""

    exit_code = 1

    def one_line(self) -> str:
        """How the CLI and the terminal chat show it."""
        return f"askdocs: error: {self}"


class UsageError(AskdocsError):
    """A mistake in settings or arguments; fixing the input fixes it."""

    exit_code = 2


class SettingsError(UsageError):
    """settings.yaml cannot be read or holds a bad key or value."""


class UnknownBackendError(UsageError):
    """An LLM spec that names no known backend."""


class StorePathError(UsageError):
    """The store path cannot be a store folder."""


class SessionNotFoundError(UsageError):
    """No stored conversation matches the given id."""


class RunError(AskdocsError):
    """A failure while running, not caused by the input's form."""


class StoreError(RunError):
    """The vector store cannot be opened or used."""


class EmbeddingMismatchError(StoreError):
    """The store was built with a different embedding model than the one configured."""


class StoreBusyError(StoreError):
    """Another process is writing to the store."""


class ModelError(RunError):
    """A model file or package is missing, corrupt, or fails to load."""


class BackendUnavailableError(RunError):
    """A model server cannot be reached."""


class DatasetError(RunError):
    """An evaluation dataset folder is not usable."""
