"""The Streamlit chat page (built in the UI issue; `make run` uses the CLI until then)."""
