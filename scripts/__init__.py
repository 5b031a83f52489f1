"""Developer scripts run through the Makefile (set-up, training, running)."""
