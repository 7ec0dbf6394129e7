"""One builder per duty rule: turns a `RosterProblem` (one town, or several) into a CP-SAT model.

`RosterModel` owns the variables; each `add_<rule>` method adds one rule from rules.py.
Hard rules call `self.enforce(...)`, which returns None for a normal solve, an assumption
literal when explaining infeasibility, and a breakable literal for softable rules in a relaxed
solve — so the same builders serve all three.  Soft rules append `Soft` terms and only
`set_objective()` assembles the objective.

Units: a person rostered by day (a grid worker, a supervisor, …) has one `work` variable a day;
a squad team (TEAM + team id) and a person rostered by shift (kind: shifts) have one variable per
shift a day, at most one of them true, and `work` is their sum.  Rules with `applies_to` act on
units of those roles; a person's own contract values (RosterProblem.param) override the rule's.
With a previous roster (problem.history) the windows and runs of the rules reach back across the
period's first day.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from ortools.sat.python import cp_model
from ortools.sat.python.cp_model import LinearExpr

from .model import TEAM, RosterProblem
from .rules import CATALOG, PATROL_ROLES, label

__all__ = ["TEAM", "PATROL_ROLES", "RosterModel", "Enforced", "Soft"]

GROUP_LABELS = {"patrol": "网格员", "teams": "班组", "shift": "值班人员"}


@dataclass
class Enforced:
    """A rule instance guarded by a literal: `rule` id, a stable `key`, and its Chinese text."""

    lit: Any
    rule: str
    key: tuple
    text: str
    facts: list[str] = field(default_factory=list)


@dataclass
class Soft:
    """An objective term: `name` is the report line, value = coef × expr."""

    rule: str
    name: str
    expr: Any
    coef: int


class RosterModel:
    """CP-SAT model of one (sub-)problem in mode "solve", "explain" or "relax"."""

    def __init__(self, prob: RosterProblem, mode: str = "solve"):
        self.p = prob
        self.mode = mode
        self.m = cp_model.CpModel()
        self.n = prob.cal.days
        self.enforced: list[Enforced] = []
        self.soft: list[Soft] = []
        # Per fairness term: every unit's count (its largest is costed) and the counts of the units
        # present all period (their smallest is); for the neighbourhood search's tie-break (lns.py).
        self.fair: list[tuple[list, list]] = []
        # work[(u, d)]: unit u (a person id, or TEAM + team id) is on duty on day d.
        self.work: dict[tuple[str, int], Any] = {}
        # shift[(u, d, s)]: unit u works shift s on day d (teams and people rostered by shift).
        self.shift: dict[tuple[str, int, str], Any] = {}
        # unit_shifts[u]: the shifts of a unit with a choice of shift.
        self.unit_shifts: dict[str, list[str]] = {}
        # patrol[(g, d, c)]: candidate c is the patroller of grid g on day d.
        self.patrol: dict[tuple[str, int, str], Any] = {}
        # candidates[g]: (person, rank) with rank 0 = own worker, 1.. = AB岗 backups in order, then neighbours.
        self.candidates: dict[str, list[tuple[str, int]]] = {}
        # visit[(p, g, d)]: supervisor or community manager p visits grid g on day d.
        self.visit: dict[tuple[str, str, int], Any] = {}
        # fire[(g, d)]: grid g gets its monthly fire-safety check on day d.
        self.fire: dict[tuple[str, int], Any] = {}
        self._windows: set[tuple] = set()   # unguarded duty-window constraints added (_duty_at_most)
        self.leave = {pid: prob.leave_days(pid) for pid in prob.people}
        self.team_shifts = prob.team_shifts
        self.period = "本月" if prob.cal.is_month else "本期"

    # ------------------------------------------------------------------ helpers

    def name(self, pid: str) -> str:
        if pid.startswith(TEAM):
            return f"班组{pid[len(TEAM):]}"
        return self.p.people[pid].name

    def day(self, d: int) -> str:
        return self.p.cal.label(d)

    def slabel(self, s: str) -> str:
        return self.p.shift_labels.get(s, s)

    def enforce(self, rule: str, key: tuple, text: str | Callable[[], str], facts: list[str] | None = None):
        """The enforcement literal of one rule instance (None: enforce unconditionally).  `text` may be
        a function giving it, called only when a literal is made (hot builders: no text when solving)."""
        if self.mode == "solve" or (self.mode == "relax" and not CATALOG[rule].softable):
            return None
        if callable(text):
            text = text()
        lit = self.m.new_bool_var(f"{rule}{key}")
        self.enforced.append(Enforced(lit, rule, key, text, facts or []))
        if self.mode == "relax":
            w = self.p.rule("relax")["relax_weight"]
            self.soft.append(Soft("relax", f"违反「{label(rule)}」：{text}", 1 - lit, w))
        return lit

    @staticmethod
    def guard(ct, lit):
        if lit is not None:
            ct.only_enforce_if(lit)
        return ct

    def units(self, roles) -> list[str]:
        """Unit ids with duty days for these roles: people, and teams when "squad" is listed."""
        out = [pid for pid, p in self.p.people.items() if p.role in roles and p.role != "squad"]
        if "squad" in roles:
            out += [TEAM + t for t in self.p.teams]
        return out

    def away(self, u: str) -> set[int]:
        return self.p.away(u)

    def may_work(self, u: str, s: str) -> bool:
        """Whether unit u may work shift s at all (a person's 可上班次, when the rule is on)."""
        person = self.p.people.get(u)
        return not (self.p.on("shift_eligibility") and person is not None and person.shifts is not None
                    and s not in person.shifts)

    def cover_links(self) -> dict[str, list[str]]:
        """Who may stand in for whom (AB岗 backups and joint-patrol neighbours), both ways, in the
        order of the grids' candidates; for the search (greedy.py, lns.py)."""
        out: dict[str, list[str]] = {}
        for g, cands in self.candidates.items():
            worker = self.p.grids[g].worker
            for c, _ in cands:
                if c != worker:
                    for a, b in ((worker, c), (c, worker)):
                        partners = out.setdefault(a, [])
                        if b not in partners:
                            partners.append(b)
        return out

    def k(self, g: str, d: int) -> int:
        """Patrol rounds grid g needs on day d."""
        return self.p.rounds(g, d)

    # -- the previous period (continuity) ------------------------------------------------

    def past(self, u: str, d: int) -> int | None:
        """1/0: unit u worked on day d < 0 of the previous roster; None: unknown (no history)."""
        h = self.p.history
        if h is None or not h.known(u) or d < -h.days:
            return None
        return int(h.shift(u, d) is not None)

    def history_fact(self, u: str, days: int = 7) -> list[str]:
        """The fact of the previous roster's last days of u, for explanations."""
        h = self.p.history
        if h is None or not h.known(u):
            return []
        k = min(days, h.days)
        cells = " ".join(self.slabel(h.shift(u, d)) if h.shift(u, d) else "休" for d in range(-k, 0))
        return [f"上期排班：{self.name(u)} 最后 {k} 天 {cells}"]

    def _duty_at_most(self, u: str, start: int, length: int, most: int, lit) -> bool:
        """At most `most` days on duty among `length` days from `start` (days before the period from
        the previous roster).  By default 每7天至少休息1天 and 最多连续工作6天 are the same constraints:
        an unguarded one is added once.  False when the window cannot be judged (no history)."""
        const, vars_ = 0, []
        for d in range(start, start + length):
            if d < 0:
                w = self.past(u, d)
                if w is None:
                    return False
                const += w
            else:
                vars_.append(self.work[u, d])
        if lit is None:
            if (u, start, length, most) in self._windows:
                return True
            self._windows.add((u, start, length, most))
        self.guard(self.m.add(LinearExpr.sum(vars_) <= most - const), lit)
        return True

    def _forbid_pattern(self, u: str, start: int, pattern: list[bool], lit) -> bool:
        """Forbid unit u from working exactly `pattern` (True = on duty) on the days from `start`;
        days before the period come from the previous roster.  False when nothing was added."""
        lits = []
        for i, want in enumerate(pattern):
            d = start + i
            if d < 0:
                w = self.past(u, d)
                if w is None or bool(w) != want:
                    return False       # unknown, or the pattern cannot have happened
                continue
            if d >= self.n:
                return False
            v = self.work[u, d]
            lits.append(v.Not() if want else v)
        if not lits:
            return False
        self.guard(self.m.add_bool_or(lits), lit)
        return True

    # ------------------------------------------------------------------ variables

    def add_variables(self) -> None:
        p, m = self.p, self.m
        for pid, person in p.people.items():
            if person.role == "squad":
                continue
            if person.role == "shift_worker":
                self.unit_shifts[pid] = list(p.person_shifts)
            for d in range(self.n):
                self.work[pid, d] = m.new_bool_var(f"work({person.name},{d + 1})")
        for tid in p.teams:
            self.unit_shifts[TEAM + tid] = list(self.team_shifts)
            for d in range(self.n):
                self.work[TEAM + tid, d] = m.new_bool_var(f"work({TEAM + tid},{d + 1})")
        for u, shifts in self.unit_shifts.items():
            for d in range(self.n):
                for s in shifts:
                    self.shift[u, d, s] = m.new_bool_var(f"shift({u},{d + 1},{s})")
                # A unit works at most one shift a day.
                m.add(sum(self.shift[u, d, s] for s in shifts) == self.work[u, d])
        joint = p.on("joint_patrol") and p.rule("joint_patrol")["allowed"]
        for g, grid in p.grids.items():
            cands = [(grid.worker, 0)] + [(b, i + 1) for i, b in enumerate(grid.backups)]
            if joint:
                seen = {c for c, _ in cands}
                for a in grid.adjacent:
                    other = p.grids.get(a)
                    if other and other.town == grid.town and other.worker not in seen:
                        cands.append((other.worker, len(grid.backups) + 1))
                        seen.add(other.worker)
            self.candidates[g] = cands
            # With 本人在岗须巡本格 hard, the own worker patrols exactly on their days on duty: one
            # variable for both (fewer variables and constraints, the same rosters).
            alias = self.mode == "solve" and p.on("own_grid_first")
            for d in range(self.n):
                for c, _ in cands:
                    if alias and c == grid.worker:
                        self.patrol[g, d, c] = self.work[c, d]
                        continue
                    self.patrol[g, d, c] = m.new_bool_var(f"patrol({g},{d + 1},{c})")
                    # Only a person on duty patrols.
                    m.add_implication(self.patrol[g, d, c], self.work[c, d])

    # ------------------------------------------------------------------ facts

    def add_leave(self) -> None:
        """Leave: a person on leave is off duty, and so is a team all of whose members are (facts,
        guarded so explanations can name them); a squad member's leave otherwise lowers the team's
        strength (add_shift_cover)."""
        for i, lv in enumerate(self.p.leaves):
            if self.p.people[lv.person].role == "squad":
                continue
            days = lv.days(self.p.cal)
            if not days:
                continue
            text = f"{self.name(lv.person)} {lv.start.month}月{lv.start.day}日至{lv.end.month}月{lv.end.day}日{lv.reason}"
            lit = self.enforce_fact(("leave", i), text)
            for d in days:
                self.guard(self.m.add(self.work[lv.person, d] == 0), lit)
        for t, team in self.p.teams.items():
            days = sorted(self.p.team_away(t))
            if days:
                text = f"班组{t} 全体队员 " + "、".join(self.day(d) for d in days) + " 请假"
                lit = self.enforce_fact(("team_leave", t), text)
                for d in days:
                    self.guard(self.m.add(self.work[TEAM + t, d] == 0), lit)

    def enforce_fact(self, key: tuple, text: str):
        """Facts (leave) are never relaxed, but take part in explanations."""
        if self.mode != "explain":
            return None
        lit = self.m.new_bool_var(f"fact{key}")
        self.enforced.append(Enforced(lit, "leave", key, text))
        return lit

    # ------------------------------------------------------------------ hard rules: patrol

    def add_grid_cover(self) -> None:
        """Every grid has exactly one patroller a day, from its own worker, AB岗 backups, or neighbours."""
        for g, grid in self.p.grids.items():
            cands = self.candidates[g]
            who = "、".join(f"{_rank_name(r, len(grid.backups))} {self.name(c)}" for c, r in cands)
            for d in range(self.n):
                vars_ = LinearExpr.sum([self.patrol[g, d, c] for c, _ in cands])
                lit = self.enforce("grid_cover", (g, d),
                                   lambda: f"网格 {g} 在 {self.day(d)} 需要巡查 {self.k(g, d)} 次（可巡查：{who}）")
                if lit is None:     # one constraint instead of two (building the county's model: 0.86 → 0.5 CPU s)
                    self.m.add(vars_ == 1)
                    continue
                self.m.add(vars_ <= 1)
                self.guard(self.m.add(vars_ >= 1), lit)

    def add_own_grid_first(self) -> None:
        """A grid's own worker on duty patrols their own grid."""
        for g, grid in self.p.grids.items():
            lit = self.enforce("own_grid_first", (g,), f"{self.name(grid.worker)} 在岗时须巡查本网格 {g}")
            if self.patrol[g, 0, grid.worker] is self.work[grid.worker, 0]:
                continue    # the same variable (add_variables)
            for d in range(self.n):
                self.guard(self.m.add_implication(self.work[grid.worker, d], self.patrol[g, d, grid.worker]), lit)

    def add_max_grids_per_day(self) -> None:
        """A person patrols at most `grids` grids and `rounds` rounds a day (rest days: rest_day_…)."""
        r = self.p.rule("max_grids_per_day")
        by_person: dict[str, list[str]] = {}
        for g, cands in self.candidates.items():
            for c, _ in cands:
                by_person.setdefault(c, []).append(g)
        own = {grid.worker: g for g, grid in self.p.grids.items()}
        rest = ""
        if r["rest_day_grids"] or r["rest_day_rounds"]:
            gr, ro = self.p.grid_cap(next((d for d in range(self.n) if self.p.cal.is_rest_day[d]), 0))
            rest = f"（休息日 {gr} 个网格、{ro} 次）"
        for c, gs in by_person.items():
            lit = self.enforce("max_grids_per_day", (c,),
                               f"{self.name(c)} 每日最多巡查 {r['grids']} 个网格、{r['rounds']} 次{rest}")
            for d in range(self.n):
                most_grids, most_rounds = self.p.grid_cap(d)
                ks = [self.k(g, d) for g in gs]
                fire = self.fire.get((own[c], d)) if c in own else None
                # Only the caps some roster could break (a person with fewer candidate grids than the
                # cap, or whose largest possible rounds are within it, needs none: about half the
                # county's caps; the rosters allowed are the same).
                if len(gs) > most_grids:
                    self.guard(self.m.add(LinearExpr.sum([self.patrol[g, d, c] for g in gs]) <= most_grids), lit)
                if sum(sorted(ks, reverse=True)[:most_grids]) + (fire is not None) > most_rounds:
                    rounds = LinearExpr.weighted_sum([self.patrol[g, d, c] for g in gs], ks)
                    if fire is not None:
                        rounds += fire
                    self.guard(self.m.add(rounds <= most_rounds), lit)

    def _add_visits(self, rule: str, visitor_of: dict[str, list[str]]) -> None:
        r = self.p.rule(rule)
        w = r["window"]
        h = self.p.history
        for pid, gs in visitor_of.items():
            if not gs:
                continue  # a manager of communities without grids has no visits (and so no duty days)
            for g in gs:
                for d in range(self.n):
                    self.visit[pid, g, d] = self.m.new_bool_var(f"visit({pid},{g},{d + 1})")
            lit_cap = self.enforce(rule, (pid, "cap"), f"{self.name(pid)} 每日最多走访 {r['max_per_day']} 个网格")
            for d in range(self.n):
                day_visits = [self.visit[pid, g, d] for g in gs]
                # A visitor is on duty exactly on the days they visit.
                self.m.add_max_equality(self.work[pid, d], day_visits)
                self.guard(self.m.add(LinearExpr.sum(day_visits) <= r["max_per_day"]), lit_cap)
            known = h is not None and h.known(pid)
            for g in gs:
                before = sorted(d for v, gg, d in (h.visits if known else ()) if v == pid and gg == g)
                facts = [f"上期排班：{self.name(pid)} 最近一次到网格 {g} 是本期开始前 {-before[-1]} 天"] if before else \
                    ([f"上期排班：{self.name(pid)} 最后 {h.days} 天未到网格 {g}"] if known else [])
                lit = self.enforce(rule, (pid, g), f"{self.name(pid)} 每 {w} 天至少到网格 {g} 一次", facts)
                first = -(w - 1) if known else 0
                for s in range(first, self.n - w + 1):
                    if s < 0 and any(s <= d < s + w for d in before):
                        continue      # a visit of the previous period covers this window
                    self.guard(self.m.add(LinearExpr.sum([self.visit[pid, g, d] for d in range(max(0, s), s + w)]) >= 1),
                               lit)

    def add_supervisor_visits(self) -> None:
        """Each supervisor visits each of their grids at least once in every `window` days (一员多格)."""
        of: dict[str, list[str]] = {}
        for g, grid in self.p.grids.items():
            if grid.supervisor:
                of.setdefault(grid.supervisor, []).append(g)
        self._add_visits("supervisor_visits", of)

    def add_manager_visits(self) -> None:
        """Each community manager visits each grid of the community at least once in every `window` days."""
        of: dict[str, list[str]] = {}
        for c in self.p.communities.values():
            if c.manager:
                of.setdefault(c.manager, []).extend(g for g, grid in self.p.grids.items() if grid.community == c.id)
        self._add_visits("manager_visits", of)

    # ------------------------------------------------------------------ hard rules: working time

    def add_rest_in_window(self) -> None:
        """Every `window` consecutive days contain at least `min_off` days off."""
        r = self.p.rule("rest_in_window")
        w, off = r["window"], r["min_off"]
        for u in self.units(r["applies_to"]):
            lit = self.enforce("rest_in_window", (u,), f"{self.name(u)} 每 {w} 天至少休息 {off} 天", self.history_fact(u))
            for s in range(-(w - 1), self.n - w + 1):
                self._duty_at_most(u, s, w, w - off, lit)

    def add_max_consecutive_work(self) -> None:
        """No more than `days` working days in a row (a person's own limit when they have one)."""
        for u in self.units(self.p.rule("max_consecutive_work")["applies_to"]):
            k = self.p.param(u, "max_consecutive_work", "days")
            lit = self.enforce("max_consecutive_work", (u,), f"{self.name(u)} 最多连续工作 {k} 天", self.history_fact(u))
            for s in range(-k, self.n - k):
                self._duty_at_most(u, s, k + 1, k, lit)

    def add_min_consecutive_off(self) -> None:
        """A stretch of days off that starts and ends inside the period (or continues one of the previous
        roster) lasts at least `days` days."""
        self._min_runs("min_consecutive_off", False, "每次休息至少连续 {k} 天")

    def add_min_consecutive_work(self) -> None:
        """A run of working days that starts and ends inside the period lasts at least `days` days."""
        self._min_runs("min_consecutive_work", True, "每次上班至少连续 {k} 天")

    def _min_runs(self, rule: str, working: bool, text: str) -> None:
        for u in self.units(self.p.rule(rule)["applies_to"]):
            k = self.p.param(u, rule, "days")
            if k <= 1:
                continue
            lit = self.enforce(rule, (u,), f"{self.name(u)} " + text.format(k=k), self.history_fact(u))
            for length in range(1, k):
                # Forbid: the other state on s-1, this state on s..s+length-1, the other state after.
                for s in range(-length, self.n - length):
                    self._forbid_pattern(u, s - 1, [not working] + [working] * length + [not working], lit)

    def add_forbidden_succession(self) -> None:
        """Forbidden shift pairs on consecutive days (夜班后不接白班), across the period's first day too."""
        r = self.p.rule("forbidden_succession")
        h = self.p.history
        for u, shifts in self.unit_shifts.items():
            after: dict[str, list[str]] = {}        # unconditional pairs, grouped by the first shift
            for a, b in r["pairs"]:
                if a not in shifts or b not in shifts:
                    continue
                facts = [f"上期排班：{self.name(u)} 最后一天 {self.slabel(a)}班"] \
                    if h is not None and h.shift(u, -1) == a else []
                lit = self.enforce("forbidden_succession", (u, a, b),
                                   f"{self.name(u)} {self.slabel(a)}班后次日不上{self.slabel(b)}班", facts)
                if lit is None:
                    if b not in after.setdefault(a, []):      # a pair listed twice must not count twice
                        after[a].append(b)
                else:
                    for d in range(self.n - 1):
                        self.guard(self.m.add_bool_or([self.shift[u, d, a].Not(), self.shift[u, d + 1, b].Not()]), lit)
                if facts:
                    self.guard(self.m.add(self.shift[u, 0, b] == 0), lit)
            # One constraint per day and first shift instead of a clause per pair: a person works one
            # shift a day, so "a today, then none of b1, b2 … tomorrow" is at most one of them all.
            # The benchmark's Instance13 (120 people, 18 shifts, 136 pairs) built 447,000 clauses in
            # 8 s this way, and 45,000 constraints the other (benchmarks/README-roster.md).
            for a, bs in after.items():
                for d in range(self.n - 1):
                    self.m.add_at_most_one([self.shift[u, d, a]] + [self.shift[u, d + 1, b] for b in bs])

    def add_max_weekends(self) -> None:
        """At most `max` weekend rest days worked in the month."""
        r = self.p.rule("max_weekends")
        if r["max"] is None:
            return
        wk = [d for d in range(self.n) if self.p.cal.is_weekend[d] and self.p.cal.is_rest_day[d]]
        for u in self.units(r["applies_to"]):
            lit = self.enforce("max_weekends", (u,), f"{self.name(u)} 本月周末最多值班 {r['max']} 天")
            self.guard(self.m.add(sum(self.work[u, d] for d in wk) <= r["max"]), lit)

    def add_max_working_weekends(self) -> None:
        """At most `max` weekends worked; a weekend is worked when its Saturday or Sunday is."""
        weekends = self.p.cal.weekends()
        for u in self.units(self.p.rule("max_working_weekends")["applies_to"]):
            most = self.p.param(u, "max_working_weekends", "max")
            if most is None:
                continue
            worked = []
            for days in weekends:
                v = self.m.new_bool_var(f"weekend({u},{days[0] + 1})")
                self.m.add_max_equality(v, [self.work[u, d] for d in days])
                worked.append(v)
            lit = self.enforce("max_working_weekends", (u,),
                               f"{self.name(u)} {self.period}最多上 {most} 个周末（共 {len(weekends)} 个周末）")
            self.guard(self.m.add(sum(worked) <= most), lit)

    def add_total_days(self) -> None:
        """Total working days between `min` (less days away) and `max`; a person's own limits first."""
        for u in self.units(self.p.rule("total_days")["applies_to"]):
            lo0, hi = self.p.param(u, "total_days", "min"), self.p.param(u, "total_days", "max")
            if lo0 is None and hi is None:
                continue
            total = sum(self.work[u, d] for d in range(self.n))
            away = len(self.away(u))
            lo = None if lo0 is None else max(0, lo0 - away)
            if lo is None:
                text = f"{self.name(u)} {self.period}最多工作 {hi} 天"
            else:
                text = f"{self.name(u)} {self.period}至少工作 {lo} 天" + (f"（{lo0} 天减去请假 {away} 天）" if away else "")
                if hi is not None:
                    text += f"、最多 {hi} 天"
                if lo > self.n:
                    text += f"，{self.period}只有 {self.n} 天"
            lit = self.enforce("total_days", (u,), text)
            if lo is not None:
                self.guard(self.m.add(total >= lo), lit)
            if hi is not None:
                self.guard(self.m.add(total <= hi), lit)

    def add_working_days(self) -> None:
        """Days worked within the official working days (less leave on them) − below … + extra_days:
        duty on rest days beyond extra_days is given back as 补休 on working days."""
        r = self.p.rule("working_days")
        official = self.p.cal.official_working_days
        for u in self.units(r["applies_to"]):
            if u.startswith(TEAM):
                continue
            target = self.p.target_days(u)
            hi = target + r["extra_days"]
            lo = None if r["below"] is None else max(0, target - r["below"])
            base = f"{self.period}法定工作日 {official} 天" + (f"（请假 {official - target} 天）" if target != official else "")
            span = f"{lo}～{hi}" if lo is not None and lo != hi else (str(hi) if lo is not None else f"至多 {hi}")
            lit = self.enforce("working_days", (u,), f"{self.name(u)} {base}，应工作 {span} 天"
                                                     f"（休息日值班超出 {r['extra_days']} 天的须补休）")
            total = sum(self.work[u, d] for d in range(self.n))
            self.guard(self.m.add(total <= hi), lit)
            if lo is not None:
                self.guard(self.m.add(total >= lo), lit)
            if r["extra_weight"] and r["extra_days"]:
                # Days above the official working days are paid duty: 补休 comes first.
                # (Its domain is not the rule's bound: the bound is the guarded constraint above.)
                extra = self.m.new_int_var(0, self.n, f"extra_days({u})")
                self.m.add(extra >= total - target)
                self.soft.append(Soft("working_days", f"休息日值班未补休({self.name(u)})", extra, r["extra_weight"]))

    def add_duty_cover(self) -> None:
        """On every rest day, at least per_community grid workers of each community with grids (and
        per_town of each town) are on duty."""
        r = self.p.rule("duty_cover")
        cal = self.p.cal
        by_comm: dict[str, set[str]] = {}
        for g, grid in self.p.grids.items():
            by_comm.setdefault(grid.community, set()).add(grid.worker)
        for pid, x in self.p.people.items():
            if x.role in PATROL_ROLES and x.community in by_comm:
                by_comm[x.community].add(pid)
        groups: list[tuple[str, list[str], int]] = []
        if r["per_community"]:
            groups += [(self.p.communities[c].name, sorted(ps), r["per_community"]) for c, ps in sorted(by_comm.items())]
        if r["per_town"]:
            for town in self.p.towns:
                ps = sorted(pid for pid, x in self.p.people.items() if x.role in PATROL_ROLES and x.town == town)
                groups.append((town, ps, r["per_town"]))
        for where, ps, need in groups:
            for d in range(self.n):
                if not cal.is_rest_day[d]:
                    continue
                away = [self.name(pid) for pid in ps if d in self.leave[pid]]
                lit = self.enforce("duty_cover", (where, d), f"{where} {self.day(d)}（休息日）至少 {need} 名网格员值班",
                                   [f"{n} 当日请假" for n in away])
                self.guard(self.m.add(sum(self.work[pid, d] for pid in ps) >= need), lit)

    def add_working_time(self) -> None:
        """Hours worked (shift lengths) within a person's min_hours (less leave_hours a day of leave) and max_hours."""
        r = self.p.rule("working_time")
        for u in self.units(r["applies_to"]):
            if u.startswith(TEAM):
                continue
            lo_h, hi_h = self.p.param(u, "working_time", "min_hours"), self.p.param(u, "working_time", "max_hours")
            if lo_h is None and hi_h is None:
                continue
            if u in self.unit_shifts:
                minutes = sum(self.p.minutes(s) * self.shift[u, d, s] for d in range(self.n) for s in self.unit_shifts[u])
            else:
                minutes = sum(self.p.minutes("duty") * self.work[u, d] for d in range(self.n))
            credit = round(r["leave_hours"] * 60) * len(self.leave.get(u, ()))
            lo = None if lo_h is None else max(0, round(lo_h * 60) - credit)
            parts = []
            if lo is not None:
                parts.append(f"至少 {_hours(lo)} 小时" + (f"（{_hours(round(lo_h * 60))} 小时减去请假 {_hours(credit)} 小时）"
                                                       if credit else ""))
            if hi_h is not None:
                parts.append(f"至多 {_hours(round(hi_h * 60))} 小时")
            lit = self.enforce("working_time", (u,), f"{self.name(u)} {self.period}工作" + "、".join(parts))
            if lo is not None:
                self.guard(self.m.add(minutes >= lo), lit)
            if hi_h is not None:
                self.guard(self.m.add(minutes <= round(hi_h * 60)), lit)

    # ------------------------------------------------------------------ hard rules: shifts

    def add_shift_eligibility(self) -> None:
        """A person works only their own shifts (staff.csv 可上班次)."""
        for u, shifts in self.unit_shifts.items():
            person = self.p.people.get(u)
            if person is None or person.shifts is None:
                continue
            banned = [s for s in shifts if s not in person.shifts]
            if not banned:
                continue
            mine = "、".join(self.slabel(s) for s in person.shifts) or "（无）"
            lit = self.enforce("shift_eligibility", (u,), f"{person.name} 只上 {mine} 班")
            for s in banned:
                for d in range(self.n):
                    self.guard(self.m.add(self.shift[u, d, s] == 0), lit)

    def add_shift_caps(self) -> None:
        """A person works each shift at most its cap (their own, else the rule's) times."""
        default = self.p.rule("shift_caps")["max"]
        for u, shifts in self.unit_shifts.items():
            person = self.p.people.get(u)
            own = person.caps if person is not None else {}
            for s in shifts:
                cap = own.get(s, default.get(s))
                if cap is None:
                    continue
                lit = self.enforce("shift_caps", (u, s), f"{self.name(u)} {self.period}最多上 {cap} 个{self.slabel(s)}班")
                self.guard(self.m.add(sum(self.shift[u, d, s] for d in range(self.n)) <= cap), lit)

    def add_shift_min_cover(self) -> None:
        """Each shift each day has at least the demand's minimum (kind shifts)."""
        for (d, s), dem in sorted(self.p.demand.items()):
            if dem.min <= 0:
                continue
            on = [u for u, shifts in self.unit_shifts.items() if s in shifts and not u.startswith(TEAM)]
            away = [self.name(u) for u in on if d in self.leave.get(u, ())]
            # who may work it by their own 可上班次 (the eligibility rule is a rule of its own in a conflict)
            able = sum(1 for u in on if (x := self.p.people.get(u)) is None or x.shifts is None or s in x.shifts)
            text = f"{self.day(d)} {self.slabel(s)}班至少 {dem.min} 人（可上此班 {able} 人）"
            lit = self.enforce("shift_min_cover", (d, s), text, [f"{n} 当日请假" for n in away])
            self.guard(self.m.add(sum(self.shift[u, d, s] for u in on) >= dem.min), lit)

    def add_shift_cover(self) -> None:
        """Per town, each team shift has at least `min_teams` teams and `min_strength` people present."""
        r = self.p.rule("shift_cover")
        towns: dict[str, list[str]] = {}
        for t, team in self.p.teams.items():
            towns.setdefault(team.town, []).append(t)
        for town, ts in towns.items():
            for d in range(self.n):
                avail = {t: sum(1 for mbr in self.p.teams[t].members if d not in self.leave[mbr]) for t in ts}
                away = [self.name(mbr) for t in ts for mbr in self.p.teams[t].members if d in self.leave[mbr]]
                for s, opt in r["shifts"].items():
                    strength = opt.get("min_strength", 0)
                    if self.p.cal.is_key[d] and r["key_day_min_strength"] is not None:
                        strength = max(strength, r["key_day_min_strength"])
                    lbl = self.slabel(s)
                    text = (f"{town} {self.day(d)} {lbl}班至少 {opt.get('min_teams', 1)} 个班组、{strength} 人在岗"
                            f"（各班组可到岗：" + "、".join(f"{t} {avail[t]}人" for t in ts) + "）")
                    facts = [f"{n} 当日请假" for n in away]
                    lit = self.enforce("shift_cover", (town, d, s), text, facts)
                    vs = [self.shift[TEAM + t, d, s] for t in ts]
                    self.guard(self.m.add(sum(vs) >= opt.get("min_teams", 1)), lit)
                    self.guard(self.m.add(sum(avail[t] * self.shift[TEAM + t, d, s] for t in ts) >= strength), lit)
                    target = opt.get("target_strength")
                    if target is not None and target > strength and self.p.on("shift_cover_shortfall"):
                        # Above the hard minimum, each missing person toward the target is a weighted shortfall.
                        short = self.m.new_int_var(0, target - strength, f"short({town},{d + 1},{s})")
                        self.m.add(sum(avail[t] * self.shift[TEAM + t, d, s] for t in ts) + short >= target)
                        self.soft.append(Soft("shift_cover_shortfall", f"班次人数未达目标({town},{self.day(d)},{lbl})", short,
                                              self.p.rule("shift_cover_shortfall")["weight"]))
                    excess = sum(vs) - opt.get("min_teams", 1)
                    if self.p.on("shift_cover_excess"):
                        self.soft.append(Soft("shift_cover_excess", f"班次超配({town},{self.day(d)},{lbl})", excess,
                                              self.p.rule("shift_cover_excess")["weight"]))

    def add_department_4plus1(self) -> None:
        """Department staff: all but one official working day of each week at the street, no rest days."""
        cal = self.p.cal
        weeks: dict[tuple, list[int]] = {}
        for d, day in enumerate(cal.dates):
            weeks.setdefault(day.isocalendar()[:2], []).append(d)
        for pid, person in self.p.people.items():
            if person.role != "department":
                continue
            lit = self.enforce("department_4plus1", (pid,), f"{person.name} 每周 4 天在街道、1 天回原单位（“4+1”）")
            for days in weeks.values():
                wd = [d for d in days if not cal.is_rest_day[d]]
                for d in days:
                    if cal.is_rest_day[d]:
                        self.guard(self.m.add(self.work[pid, d] == 0), lit)
                total = sum(self.work[pid, d] for d in wd)
                # Days on leave are excused: they may take the place of the "+1" day or of street days.
                away = sum(1 for d in wd if d in self.leave[pid])
                if len(wd) >= 5:
                    self.guard(self.m.add(total <= len(wd) - 1), lit)
                if wd:
                    self.guard(self.m.add(total >= max(0, len(wd) - 1 - away)), lit)

    def add_fire_check(self) -> None:
        """Each grid's own worker makes `per_month` fire-safety checks of rental homes on official working days."""
        r = self.p.rule("fire_check")
        cal = self.p.cal
        for g, grid in self.p.grids.items():
            days = [d for d in range(self.n) if not cal.is_rest_day[d]]
            for d in days:
                self.fire[g, d] = self.m.new_bool_var(f"fire({g},{d + 1})")
                self.m.add_implication(self.fire[g, d], self.patrol[g, d, grid.worker])
            lit = self.enforce("fire_check", (g,), f"网格 {g} 本月由 {self.name(grid.worker)} 做 {r['per_month']} 次出租房屋消防检查"
                                                  f"（在工作日巡查本网格时；本月共 {len(days)} 个工作日）")
            self.guard(self.m.add(sum(self.fire[g, d] for d in days) == r["per_month"]), lit)

    def add_publicity_day(self) -> None:
        """On the month's first Monday that is a working day every grid worker and co-manager not on
        leave is on duty."""
        d = self.p.cal.first_working_monday
        if d is None:
            return
        for pid, person in self.p.people.items():
            if person.role in PATROL_ROLES and d not in self.leave[pid]:
                lit = self.enforce("publicity_day", (pid,), f"{person.name} {self.day(d)}（消防宣传日）须在岗")
                self.guard(self.m.add(self.work[pid, d] == 1), lit)

    # ------------------------------------------------------------------ soft rules

    def add_backup_order(self) -> None:
        """Using the n-th backup costs n × weight, so backups are called in their AB岗 order."""
        w = self.p.rule("backup_order")["weight"]
        for g, cands in self.candidates.items():
            for c, rank in cands:
                if rank == 0:
                    continue
                expr = sum(self.patrol[g, d, c] for d in range(self.n))
                self.soft.append(Soft("backup_order", f"backup_order(grid={g}, by={self.name(c)}, rank={rank})", expr, w * rank))

    def add_rest_day_duty(self) -> None:
        """Each day worked on a rest day costs weight (holiday_weight on a public holiday)."""
        r = self.p.rule("rest_day_duty")
        cal = self.p.cal
        days = [d for d in range(self.n) if cal.is_rest_day[d]]
        for u in self.units(r["applies_to"]):
            expr = sum((r["holiday_weight"] if cal.is_holiday[d] else r["weight"]) * self.work[u, d] for d in days)
            if days:
                self.soft.append(Soft("rest_day_duty", f"休息日值班({self.name(u)})", expr, 1))

    def add_shift_demand(self) -> None:
        """Each person short of a shift's demand costs its under weight, each person beyond it its over weight."""
        w = self.p.rule("shift_demand")["weight"]
        people = [u for u in self.unit_shifts if not u.startswith(TEAM)]
        self.under: dict[tuple[int, str], Any] = {}     # for the search: where people are short (lns.py)
        for (d, s), dem in sorted(self.p.demand.items()):
            if not dem.under_weight and not dem.over_weight:
                continue
            on = sum(self.shift[u, d, s] for u in people if s in self.unit_shifts[u])
            under = self.m.new_int_var(0, dem.target, f"under({d + 1},{s})")
            over = self.m.new_int_var(0, len(people), f"over({d + 1},{s})")
            self.m.add(on + under - over == dem.target)
            self.under[d, s] = under
            where = f"{self.day(d)},{self.slabel(s)}"
            if dem.under_weight:
                self.soft.append(Soft("shift_demand", f"缺员({where})", under, w * dem.under_weight))
            if dem.over_weight:
                self.soft.append(Soft("shift_demand", f"超员({where})", over, w * dem.over_weight))

    def _fair(self, rule: str, counts: dict[str, Any], full: set[str], where: str) -> None:
        """weight × (largest count) + weight × (largest − smallest among units present all period)."""
        if len(counts) < 1:
            return
        w = self.p.rule(rule)["weight"]
        hi = self.m.new_int_var(0, self.n * 4, f"{rule}_max({where})")
        self.m.add_max_equality(hi, list(counts.values()))
        self.soft.append(Soft(rule, f"{label(rule)}({where}) 最多", hi, w))
        base = [counts[u] for u in counts if u in full]
        if len(base) >= 2:
            lo = self.m.new_int_var(0, self.n * 4, f"{rule}_min({where})")
            self.m.add_min_equality(lo, base)
            self.soft.append(Soft(rule, f"{label(rule)}({where}) 最多−最少", hi - lo, w))
        self.fair.append((list(counts.values()), base if len(base) >= 2 else []))

    def fair_groups(self) -> list[tuple[str, str, list[str]]]:
        """(town, group, units): grid workers and co-managers, squad teams, people rostered by shift."""
        out = []
        for town in self.p.towns:
            patrol = [u for u in self.units(PATROL_ROLES) if self.p.people[u].town == town]
            teams = [TEAM + t for t, team in self.p.teams.items() if team.town == town]
            shift = [u for u in self.units(["shift_worker"]) if self.p.people[u].town == town]
            out += [(town, g, us) for g, us in (("patrol", patrol), ("teams", teams), ("shift", shift)) if us]
        return out

    def fair_counts(self) -> list[tuple[str, str, dict[str, Any], set[str]]]:
        """(rule, where, each unit's count, the units present on all the days counted) of every
        fairness term: days, weekends, holidays and nights within each group, backup duty among
        grid workers.  Built once; the limits (hard) and the terms (soft) both use them."""
        if hasattr(self, "_fair_counts"):
            return self._fair_counts
        cal, out = self.p.cal, []
        weekend = [d for d in range(self.n) if cal.is_weekend[d] and cal.is_rest_day[d] and not cal.is_holiday[d]]
        holiday = [d for d in range(self.n) if cal.is_holiday[d]]
        groups = self.fair_groups()
        for town, group, us in groups:
            # One group of grid workers in a town keeps the town's name alone (as before squads counted).
            alone = group == "patrol" and sum(1 for t, _, _ in groups if t == town) == 1
            where = town if alone else f"{town}{GROUP_LABELS[group]}"
            for rule, days in (("fair_days", list(range(self.n))), ("fair_weekends", weekend),
                               ("fair_holidays", holiday)):
                if self.p.on(rule) and days:
                    counts = {u: sum(self.work[u, d] for d in days) for u in us}
                    out.append((rule, where, counts, {u for u in us if not (self.away(u) & set(days))}))
            if self.p.on("fair_nights") and group != "patrol":
                # Among those who may work nights at all (可上班次).
                nights = {u: [s for s in self.unit_shifts[u] if self.p.is_night(s) and self.may_work(u, s)] for u in us}
                us = [u for u in us if nights[u]]
                if us:
                    counts = {u: sum(self.shift[u, d, s] for d in range(self.n) for s in nights[u]) for u in us}
                    out.append(("fair_nights", where, counts, {u for u in us if not self.away(u)}))
            if self.p.on("fair_backup") and group == "patrol":
                mine: dict[str, list[tuple]] = {}
                for g, cands in self.candidates.items():
                    for c, rank in cands:
                        if rank > 0:
                            mine.setdefault(c, []).extend((g, d, c) for d in range(self.n))
                counts = {u: sum(self.patrol[k] for k in mine.get(u, [])) for u in us if u in mine}
                out.append(("fair_backup", where, counts, {u for u in counts if not self.leave[u]}))
        self._fair_counts = out
        return out

    def add_fair_limits(self) -> None:
        """The fairness rules' `max_spread`: most − fewest (among units present all period) at most so much."""
        for rule, where, counts, full in self.fair_counts():
            k = self.p.rule(rule)["max_spread"]
            base = [counts[u] for u in counts if u in full]
            if k is None or len(base) < 2:
                continue
            hi = self.m.new_int_var(0, self.n * 4, f"{rule}_limit_max({where})")
            lo = self.m.new_int_var(0, self.n * 4, f"{rule}_limit_min({where})")
            for c in counts.values():
                self.m.add(hi >= c)
            for c in base:
                self.m.add(lo <= c)
            lit = self.enforce(rule, (where,), f"{where} {label(rule)}：最多与最少相差不超过 {k}")
            self.guard(self.m.add(hi - lo <= k), lit)

    def add_fairness(self) -> None:
        """Days, weekends, holidays and nights spread evenly within each group, and backup duty among grid
        workers; the most-loaded unit first."""
        for rule, where, counts, full in self.fair_counts():
            self._fair(rule, counts, full, where)

    def add_requests(self) -> None:
        """Each unmet request to be off or on duty (or on or off a shift) costs its weight."""
        w = self.p.rule("requests")["weight"]
        for rq in self.p.requests:
            if rq.shift is not None:
                v = self.shift[rq.person, rq.day, rq.shift]
                what = f"{'上' if rq.want == 'on' else '不上'}{self.slabel(rq.shift)}班"
            else:
                v = self.work[rq.person, rq.day]
                what = "休息" if rq.want == "off" else "上班"
            expr = v if rq.want == "off" else 1 - v
            self.soft.append(Soft("requests", f"申请未满足({self.name(rq.person)}, {self.day(rq.day)}, {what})", expr, w * rq.weight))

    def add_visit_economy(self) -> None:
        """Each visit costs a little, so supervisors are not sent out beyond the weekly rule."""
        w = self.p.rule("visit_economy")["weight"]
        by: dict[str, list] = {}
        for (pid, g, d), v in self.visit.items():
            by.setdefault(pid, []).append(v)
        for pid, vs in by.items():
            self.soft.append(Soft("visit_economy", f"走访次数({self.name(pid)})", sum(vs), w))

    # ------------------------------------------------------------------ assembly

    HARD_BUILDERS = ["grid_cover", "own_grid_first", "fire_check", "max_grids_per_day", "supervisor_visits",
                     "manager_visits", "rest_in_window", "max_consecutive_work", "min_consecutive_work",
                     "min_consecutive_off", "forbidden_succession", "shift_eligibility", "shift_caps",
                     "shift_min_cover", "shift_cover", "department_4plus1", "publicity_day", "max_weekends",
                     "max_working_weekends", "total_days", "working_days", "working_time", "duty_cover"]
    PATROL_ONLY = {"grid_cover", "own_grid_first", "fire_check", "max_grids_per_day", "supervisor_visits",
                   "manager_visits", "shift_cover", "department_4plus1", "publicity_day", "working_days",
                   "duty_cover"}

    def build(self, objective: bool = True) -> "RosterModel":
        self.add_variables()
        self.add_leave()
        for rid in self.HARD_BUILDERS:
            if self.p.on(rid) and (self.p.kind == "patrol" or rid not in self.PATROL_ONLY):
                getattr(self, f"add_{rid}")()
        self.add_fair_limits()
        # Supervisors and managers are on roster duty only on visit days; without visits they have none.
        visitors = {pid for pid, _, _ in self.visit}
        for pid, person in self.p.people.items():
            if person.role in ("supervisor", "manager") and pid not in visitors:
                for d in range(self.n):
                    self.m.add(self.work[pid, d] == 0)
        if objective:
            self.add_objective_terms()
        return self

    def add_objective_terms(self) -> None:
        """The soft rules (shift cover excess and shortfall come with the hard rule); a model built
        without them for a first roster gets them later, keeping every variable it has."""
        for rid in ("backup_order", "rest_day_duty", "shift_demand"):
            if self.p.on(rid):
                getattr(self, f"add_{rid}")()
        self.add_fairness()
        if self.p.on("requests"):
            self.add_requests()
        if self.p.on("visit_economy"):
            self.add_visit_economy()

    def set_objective(self) -> None:
        if self.soft:
            self.m.minimize(sum(s.coef * s.expr for s in self.soft))


def _hours(minutes: int) -> str:
    return f"{minutes / 60:g}"


def _rank_name(rank: int, n_backups: int) -> str:
    if rank == 0:
        return "本人"
    if rank <= n_backups:
        return f"{chr(ord('A') + rank)}岗"
    return "相邻网格"
