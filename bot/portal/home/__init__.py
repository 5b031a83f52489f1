"""home blueprint."""
