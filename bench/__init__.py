"""Benchmarks for MSP Assistant (`make bench`, not run in CI). See bench/run.py."""
