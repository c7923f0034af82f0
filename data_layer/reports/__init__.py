"""Dashboard reads: aggregates over many records (compliance, caseload summaries, cohorts) and the
client-record export. Read-only; every public function takes the principal."""
