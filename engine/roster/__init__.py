"""Patrol rosters with OR-Tools CP-SAT (see docs/roster.md).

    load_problem(folder)  -> RosterProblem      model.py: read and validate rosters/<name>/
    solve(problem)        -> Roster             solve.py: per-town CP-SAT, explanations on failure
    check_roster(roster)  -> [RuleCheck]        check.py: every hard rule re-verified
    write_all(roster, checks, folder)           output.py: CSV, .xlsx and roster.json
"""
from .check import check_roster
from .model import RosterProblem, load_problem
from .output import write_all
from .solve import Roster, solve

__all__ = ["RosterProblem", "Roster", "load_problem", "solve", "check_roster", "write_all"]
