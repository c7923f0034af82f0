"""Pure clinical logic: instruments, scoring, outcome rules. No I/O, no SQL, no streamlit."""
