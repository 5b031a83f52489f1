"""audit_log blueprint."""
