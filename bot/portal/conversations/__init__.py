"""conversations blueprint."""
