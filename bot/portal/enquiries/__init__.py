"""Enquiries blueprint."""
