"""Storage and queries. Never imports streamlit; every public function takes the principal."""
