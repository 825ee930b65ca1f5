"""The Mental Health Act's legal clocks (MHA.md): detention periods, renewals, rights,
tribunals, consent to treatment, leave, places of safety, C(E)TRs.

This first part is the time arithmetic (clocks.py) and each provision's period
(periods.py), pure and exhaustively tested; the records, rules, API and pages build on it.
"""
