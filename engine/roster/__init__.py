"""Rosters with OR-Tools CP-SAT (see docs/roster.md): patrol rosters, and rosters by person and shift.

    load_problem(folder)  -> RosterProblem      model.py: read and validate rosters/<name>/ (register.py:
                                                the scoring register; continuity.py: last month's roster)
    solve(problem)        -> Roster             solve.py: per-town CP-SAT, progress, explanations on failure
    check_roster(roster)  -> [RuleCheck]        check.py: every hard rule re-verified, violations located
    write_all(roster, checks, folder)           output.py: CSV, .xlsx and roster.json
    read_edited(problem, path)                  importer.py: a roster adjusted by hand, read back

The use cases on top of these (solve, re-plan, import, publish, compare with the register) are in
engine/app/rosters.py.
"""
from .check import check_roster
from .model import RosterProblem, load_problem
from .output import write_all
from .solve import Roster, solve

__all__ = ["RosterProblem", "Roster", "load_problem", "solve", "check_roster", "write_all"]
