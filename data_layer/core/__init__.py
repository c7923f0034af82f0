"""The data layer's plumbing below the access rules: the connection and its transactions, migrations,
the principal and its scopes, the audit trail, input checks, settings, the SQL fragments tables and
reports share, and the login throttle. The table modules and reports build on it."""
