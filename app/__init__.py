"""Wardflow: inpatient bed-flow and least-restrictive-practice monitoring."""
