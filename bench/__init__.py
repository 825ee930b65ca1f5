"""`make bench`: Wardflow at national scale, measured side by side with its limits.

Run with `make bench` (or `python -m bench`); bench/README.md says what is measured, the
goals, and the latest results. Settings come from BENCH_* environment variables
(bench/config.py).
"""
