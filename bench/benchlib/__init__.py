"""Helpers of bench/run.py: processes and /proc accounting (procs), one measurement each (measure),
summaries and the markdown report (report)."""
