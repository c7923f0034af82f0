"""Streamlit-only glue: login, the current principal, the cached connection, shared widgets."""
