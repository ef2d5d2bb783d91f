"""askdocs' question answering: settings, store, retrieval, prompts, model backends, the chain and the CLI."""
