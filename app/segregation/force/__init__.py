"""Use of force (Use of Force Act 2018 s.6(5)): restrictive intervention records.

models (tables), schemas (API bodies), checks (what a record lacks, what a draft must
pass; pure), service (record, complete, correct, read), router (JSON API), views (pages).
"""
