"""Patrol rosters with OR-Tools CP-SAT (see docs/roster.md)."""
