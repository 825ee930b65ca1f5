"""Placeholder: filled in by the restrictive-practice work."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
