"""Policies as use cases: check policy files (format, references, worked examples) and give the
JSON Schema of the format for editors."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ExampleMismatch, PolicyError, Problem

__all__ = ["CheckedPolicy", "ValidationReport", "validate_policies", "policy_schema"]


@dataclass(frozen=True)
class CheckedPolicy:
    file: str
    name: str
    version: str
    abstract: bool          # a base policy for others to inherit from (its examples are not run)
    examples: int           # worked examples run, all of which came out as written


@dataclass
class ValidationReport:
    passed: list[CheckedPolicy] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)     # format and reference problems
    mismatches: list[Problem] = field(default_factory=list)   # worked examples that came out otherwise

    def raise_if_any(self) -> None:
        """Every problem of every file, mismatches included, in one error."""
        if self.problems:
            raise PolicyError(self.problems + self.mismatches)
        if self.mismatches:
            raise ExampleMismatch(self.mismatches)


def policy_files(paths) -> list[Path]:
    """Files named, and the *.yaml/*.yml of folders named, in a stable order."""
    files: list[Path] = []
    for p in map(Path, paths):
        files.extend(sorted(list(p.glob("*.yaml")) + list(p.glob("*.yml"))) if p.is_dir() else [p])
    return files


def validate_policies(paths) -> ValidationReport:
    """Check each policy file and run its worked examples; versions of one policy must not overlap."""
    from ..policy import load_policy_file, version_problems
    from ..scoring import run_examples

    report, loaded = ValidationReport(), []
    for f in policy_files(paths):
        if not f.exists():
            report.problems.append(Problem(str(f), None, "文件", str(f), "存在的考核细则文件"))
            continue
        try:
            pol = load_policy_file(f)
        except PolicyError as exc:
            report.problems.extend(exc.problems)
            continue
        loaded.append(pol)
        if pol.doc.abstract:
            report.passed.append(CheckedPolicy(str(f), pol.name, pol.version, True, 0))
            continue
        fails = run_examples(pol)
        if fails:
            report.mismatches.extend(fails)
        else:
            report.passed.append(CheckedPolicy(str(f), pol.name, pol.version, False, len(pol.doc.examples)))
    report.problems.extend(version_problems(loaded))
    return report


def policy_schema() -> dict:
    """JSON Schema of the policy format (for editors that check a policy while it is typed)."""
    from ..policy import policy_json_schema

    return policy_json_schema()
