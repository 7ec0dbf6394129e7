"""Appeals and corrections (申诉/更正)."""
from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
