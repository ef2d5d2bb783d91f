"""The environment that keeps askdocs offline and quiet: no model hub, no telemetry, no notices.

Entry points (the CLI, the page, tests, benchmarks) apply it before Hugging Face, Chroma or
unstructured are imported; those libraries read these variables at import time. Library code never
reads them.
"""

from __future__ import annotations

import os

OFFLINE_ENVIRONMENT = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
    "SCARF_NO_ANALYTICS": "true",
    "DO_NOT_TRACK": "1",
    "UNSTRUCTURED_DISABLE_NOTICE": "1",
}


def apply_offline_environment(force: bool = False) -> None:
    """Set the variables (keeping values the user set, unless `force`)."""
    for name, value in OFFLINE_ENVIRONMENT.items():
        if force:
            os.environ[name] = value
        else:
            os.environ.setdefault(name, value)
