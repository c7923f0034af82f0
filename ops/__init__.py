"""Operations tools outside the request path: backup and restore (and the running app's backup
socket), the admin's "back up now", creating a new clinic, and the demo clinic generator.
Built on data_layer; the app imports only backup_service and maintenance from here."""
