"""Ingestion: load files, split them into chunks, and keep a Chroma collection in sync with folders."""
