"""Benchmarks for the public pages; run `python bench/programme.py` from the project root."""
