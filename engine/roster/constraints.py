"""One builder per duty rule: turns a `RosterProblem` (one town, or several) into a CP-SAT model.

`RosterModel` owns the variables; each `add_<rule>` method adds one rule from rules.py.
Hard rules call `self.enforce(...)`, which returns None for a normal solve, an assumption
literal when explaining infeasibility, and a breakable literal for softable rules in a relaxed
solve — so the same builders serve all three.  Soft rules return `(terms, coefficients)`
lists and only `build()` assembles the objective.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ortools.sat.python import cp_model

from .model import RosterProblem
from .rules import ROLE_LABELS, label

TEAM = "班组:"          # prefix of a team's unit id, so teams and people share one `work` dict
PATROL_ROLES = ("grid_worker", "co_manager")


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
        # present all month (their smallest is); for the neighbourhood search's tie-break (lns.py).
        self.fair: list[tuple[list, list]] = []
        # work[(u, d)]: unit u (a person id, or TEAM + team id) is on duty on day d.
        self.work: dict[tuple[str, int], Any] = {}
        # shift[(team_unit, d, s)]: the team works shift s on day d (teams only; people have one duty shift).
        self.shift: dict[tuple[str, int, str], Any] = {}
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
        self.team_shifts = list(prob.rule("shift_cover")["shifts"]) if prob.on("shift_cover") else ["day", "night"]

    # ------------------------------------------------------------------ helpers

    def name(self, pid: str) -> str:
        if pid.startswith(TEAM):
            return f"班组{pid[len(TEAM):]}"
        return self.p.people[pid].name

    def day(self, d: int) -> str:
        return self.p.cal.label(d)

    def enforce(self, rule: str, key: tuple, text: str, facts: list[str] | None = None):
        """The enforcement literal of one rule instance (None: enforce unconditionally)."""
        if self.mode == "solve" or (self.mode == "relax" and not self._softable(rule)):
            return None
        lit = self.m.new_bool_var(f"{rule}{key}")
        self.enforced.append(Enforced(lit, rule, key, text, facts or []))
        if self.mode == "relax":
            w = self.p.rule("relax")["relax_weight"]
            self.soft.append(Soft("relax", f"违反「{label(rule)}」：{text}", 1 - lit, w))
        return lit

    def _softable(self, rule: str) -> bool:
        from .rules import CATALOG
        return CATALOG[rule].softable

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

    # ------------------------------------------------------------------ variables

    def add_variables(self) -> None:
        p, m = self.p, self.m
        for pid, person in p.people.items():
            if person.role == "squad":
                continue
            for d in range(self.n):
                self.work[pid, d] = m.new_bool_var(f"work({person.name},{d + 1})")
        for tid in p.teams:
            u = TEAM + tid
            for d in range(self.n):
                for s in self.team_shifts:
                    self.shift[u, d, s] = m.new_bool_var(f"shift({tid},{d + 1},{s})")
                # A team works at most one shift a day.
                self.work[u, d] = m.new_bool_var(f"work({u},{d + 1})")
                m.add(sum(self.shift[u, d, s] for s in self.team_shifts) == self.work[u, d])
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
        """Leave: a person on leave is off duty (a fact, guarded so explanations can name it)."""
        for i, lv in enumerate(self.p.leaves):
            if self.p.people[lv.person].role == "squad":
                continue  # squad leave lowers the team's strength; see add_shift_cover
            days = lv.days(self.p.cal)
            if not days:
                continue
            text = f"{self.name(lv.person)} {lv.start.month}月{lv.start.day}日至{lv.end.month}月{lv.end.day}日{lv.reason}"
            lit = self.enforce_fact(("leave", i), text)
            for d in days:
                self.guard(self.m.add(self.work[lv.person, d] == 0), lit)

    def enforce_fact(self, key: tuple, text: str):
        """Facts (leave) are never relaxed, but take part in explanations."""
        if self.mode != "explain":
            return None
        lit = self.m.new_bool_var(f"fact{key}")
        self.enforced.append(Enforced(lit, "leave", key, text))
        return lit

    # ------------------------------------------------------------------ hard rules

    def add_grid_cover(self) -> None:
        """Every grid has exactly one patroller a day, from its own worker, AB岗 backups, or neighbours."""
        for g, grid in self.p.grids.items():
            cands = self.candidates[g]
            who = "、".join(f"{_rank_name(r, len(grid.backups))} {self.name(c)}" for c, r in cands)
            for d in range(self.n):
                vars_ = [self.patrol[g, d, c] for c, _ in cands]
                self.m.add(sum(vars_) <= 1)
                text = f"网格 {g} 在 {self.day(d)} 需要巡查 {self.k(g, d)} 次（可巡查：{who}）"
                lit = self.enforce("grid_cover", (g, d), text)
                self.guard(self.m.add(sum(vars_) >= 1), lit)

    def add_own_grid_first(self) -> None:
        """A grid's own worker on duty patrols their own grid."""
        for g, grid in self.p.grids.items():
            lit = self.enforce("own_grid_first", (g,), f"{self.name(grid.worker)} 在岗时须巡查本网格 {g}")
            if self.patrol[g, 0, grid.worker] is self.work[grid.worker, 0]:
                continue    # the same variable (add_variables)
            for d in range(self.n):
                self.guard(self.m.add_implication(self.work[grid.worker, d], self.patrol[g, d, grid.worker]), lit)

    def add_max_grids_per_day(self) -> None:
        """A person patrols at most `grids` grids and `rounds` rounds a day."""
        r = self.p.rule("max_grids_per_day")
        by_person: dict[str, list[str]] = {}
        for g, cands in self.candidates.items():
            for c, _ in cands:
                by_person.setdefault(c, []).append(g)
        own = {grid.worker: g for g, grid in self.p.grids.items()}
        for c, gs in by_person.items():
            lit = self.enforce("max_grids_per_day", (c,),
                               f"{self.name(c)} 每日最多巡查 {r['grids']} 个网格、{r['rounds']} 次")
            for d in range(self.n):
                self.guard(self.m.add(sum(self.patrol[g, d, c] for g in gs) <= r["grids"]), lit)
                rounds = [self.k(g, d) * self.patrol[g, d, c] for g in gs]
                if c in own and (own[c], d) in self.fire:
                    rounds.append(self.fire[own[c], d])
                self.guard(self.m.add(sum(rounds) <= r["rounds"]), lit)

    def _add_visits(self, rule: str, visitor_of: dict[str, list[str]]) -> None:
        r = self.p.rule(rule)
        w = r["window"]
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
                self.guard(self.m.add(sum(day_visits) <= r["max_per_day"]), lit_cap)
            for g in gs:
                lit = self.enforce(rule, (pid, g), f"{self.name(pid)} 每 {w} 天至少到网格 {g} 一次")
                for s in range(0, self.n - w + 1):
                    self.guard(self.m.add(sum(self.visit[pid, g, d] for d in range(s, s + w)) >= 1), lit)

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

    def add_rest_in_window(self) -> None:
        """Every `window` consecutive days contain at least `min_off` days off."""
        r = self.p.rule("rest_in_window")
        w, off = r["window"], r["min_off"]
        for u in self.units(r["applies_to"]):
            lit = self.enforce("rest_in_window", (u,), f"{self.name(u)} 每 {w} 天至少休息 {off} 天")
            for s in range(0, self.n - w + 1):
                self._duty_at_most(u, s, w, w - off, lit)

    def add_max_consecutive_work(self) -> None:
        """No more than `days` working days in a row."""
        r = self.p.rule("max_consecutive_work")
        k = r["days"]
        for u in self.units(r["applies_to"]):
            lit = self.enforce("max_consecutive_work", (u,), f"{self.name(u)} 最多连续工作 {k} 天")
            for s in range(0, self.n - k):
                self._duty_at_most(u, s, k + 1, k, lit)

    def _duty_at_most(self, u: str, start: int, length: int, most: int, lit) -> None:
        """At most `most` days on duty among `length` days from `start`.  By default 每7天至少休息1天 and
        最多连续工作6天 are the same constraints: an unguarded one is added once."""
        if lit is None:
            if (u, start, length, most) in self._windows:
                return
            self._windows.add((u, start, length, most))
        self.guard(self.m.add(sum(self.work[u, d] for d in range(start, start + length)) <= most), lit)

    def add_min_consecutive_off(self) -> None:
        """A stretch of days off that starts and ends inside the month lasts at least `days` days."""
        r = self.p.rule("min_consecutive_off")
        k = r["days"]
        if k <= 1:
            return
        for u in self.units(r["applies_to"]):
            lit = self.enforce("min_consecutive_off", (u,), f"{self.name(u)} 每次休息至少连续 {k} 天")
            for length in range(1, k):
                for s in range(1, self.n - length):
                    # Forbid: on duty on s-1, off on s..s+length-1, on duty on s+length.
                    clause = [self.work[u, s - 1].Not(), self.work[u, s + length].Not()]
                    clause += [self.work[u, d] for d in range(s, s + length)]
                    self.guard(self.m.add_bool_or(clause), lit)

    def add_forbidden_succession(self) -> None:
        """Forbidden shift pairs on consecutive days (夜班后不接白班)."""
        r = self.p.rule("forbidden_succession")
        for t in self.p.teams:
            u = TEAM + t
            for a, b in r["pairs"]:
                if a not in self.team_shifts or b not in self.team_shifts:
                    continue
                lbl = self.p.shift_labels
                lit = self.enforce("forbidden_succession", (u, a, b),
                                   f"{self.name(u)} {lbl.get(a, a)}班后次日不上{lbl.get(b, b)}班")
                for d in range(self.n - 1):
                    self.guard(self.m.add_bool_or([self.shift[u, d, a].Not(), self.shift[u, d + 1, b].Not()]), lit)

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
                    lbl = self.p.shift_labels.get(s, s)
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
        """On the first Monday every grid worker and co-manager not on leave is on duty."""
        d = self.p.cal.first_monday
        for pid, person in self.p.people.items():
            if person.role in PATROL_ROLES and d not in self.leave[pid]:
                lit = self.enforce("publicity_day", (pid,), f"{person.name} {self.day(d)}（消防宣传日）须在岗")
                self.guard(self.m.add(self.work[pid, d] == 1), lit)

    def add_max_weekends(self) -> None:
        """At most `max` weekend rest days worked in the month."""
        r = self.p.rule("max_weekends")
        if r["max"] is None:
            return
        wk = [d for d in range(self.n) if self.p.cal.is_weekend[d] and self.p.cal.is_rest_day[d]]
        for u in self.units(r["applies_to"]):
            lit = self.enforce("max_weekends", (u,), f"{self.name(u)} 本月周末最多值班 {r['max']} 天")
            self.guard(self.m.add(sum(self.work[u, d] for d in wk) <= r["max"]), lit)

    def add_total_days(self) -> None:
        """Total working days between `min` (less days on leave) and `max`."""
        r = self.p.rule("total_days")
        if r["min"] is None and r["max"] is None:
            return
        for u in self.units(r["applies_to"]):
            total = sum(self.work[u, d] for d in range(self.n))
            away = len(self.leave.get(u, ()))
            lo = None if r["min"] is None else max(0, r["min"] - away)
            if lo is None:
                text = f"{self.name(u)} 本月最多工作 {r['max']} 天"
            else:
                text = f"{self.name(u)} 本月至少工作 {lo} 天" + (f"（{r['min']} 天减去请假 {away} 天）" if away else "")
                if r["max"] is not None:
                    text += f"、最多 {r['max']} 天"
                if lo > self.n:
                    text += f"，本月只有 {self.n} 天"
            lit = self.enforce("total_days", (u,), text)
            if lo is not None:
                self.guard(self.m.add(total >= lo), lit)
            if r["max"] is not None:
                self.guard(self.m.add(total <= r["max"]), lit)

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

    def _fair(self, rule: str, counts: dict[str, Any], full: set[str], town: str) -> None:
        """weight × (largest count) + weight × (largest − smallest among people present all month)."""
        if len(counts) < 1:
            return
        w = self.p.rule(rule)["weight"]
        hi = self.m.new_int_var(0, self.n, f"{rule}_max({town})")
        self.m.add_max_equality(hi, list(counts.values()))
        self.soft.append(Soft(rule, f"{label(rule)}({town}) 最多", hi, w))
        base = [counts[u] for u in counts if u in full]
        if len(base) >= 2:
            lo = self.m.new_int_var(0, self.n, f"{rule}_min({town})")
            self.m.add_min_equality(lo, base)
            self.soft.append(Soft(rule, f"{label(rule)}({town}) 最多−最少", hi - lo, w))
        self.fair.append((list(counts.values()), base if len(base) >= 2 else []))

    def _by_town(self, units: list[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for u in units:
            town = self.p.teams[u[len(TEAM):]].town if u.startswith(TEAM) else self.p.people[u].town
            out.setdefault(town, []).append(u)
        return out

    def add_fairness(self) -> None:
        """Weekends, holidays, nights and backup duty spread evenly, most-loaded person first."""
        cal = self.p.cal
        patrollers = [pid for pid in self.units(PATROL_ROLES)]
        if self.p.on("fair_weekends"):
            days = [d for d in range(self.n) if cal.is_weekend[d] and cal.is_rest_day[d] and not cal.is_holiday[d]]
            self._fair_days("fair_weekends", patrollers, days)
        if self.p.on("fair_holidays"):
            days = [d for d in range(self.n) if cal.is_holiday[d]]
            self._fair_days("fair_holidays", patrollers, days)
        if self.p.on("fair_nights") and "night" in self.team_shifts:
            for town, us in self._by_town([TEAM + t for t in self.p.teams]).items():
                counts = {u: sum(self.shift[u, d, "night"] for d in range(self.n)) for u in us}
                self._fair("fair_nights", counts, set(us), town)
        if self.p.on("fair_backup"):
            mine: dict[str, list[tuple]] = {}
            for g, cands in self.candidates.items():
                for c, rank in cands:
                    if rank > 0:
                        mine.setdefault(c, []).extend((g, d, c) for d in range(self.n))
            for town, us in self._by_town(patrollers).items():
                counts = {u: sum(self.patrol[k] for k in mine.get(u, [])) for u in us if u in mine}
                full = {u for u in counts if not self.leave[u]}
                self._fair("fair_backup", counts, full, town)

    def _fair_days(self, rule: str, units: list[str], days: list[int]) -> None:
        if not days:
            return
        for town, us in self._by_town(units).items():
            counts = {u: sum(self.work[u, d] for d in days) for u in us}
            full = {u for u in us if not (self.leave[u] & set(days))}
            self._fair(rule, counts, full, town)

    def add_requests(self) -> None:
        """Each unmet request to be off or on duty costs its weight."""
        w = self.p.rule("requests")["weight"]
        for rq in self.p.requests:
            v = self.work[rq.person, rq.day]
            want = "休息" if rq.want == "off" else "上班"
            expr = v if rq.want == "off" else 1 - v
            self.soft.append(Soft("requests", f"申请未满足({self.name(rq.person)}, {self.day(rq.day)}, {want})", expr, w * rq.weight))

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
                     "manager_visits", "rest_in_window", "max_consecutive_work", "min_consecutive_off",
                     "forbidden_succession", "shift_cover", "department_4plus1", "publicity_day",
                     "max_weekends", "total_days"]

    def build(self, objective: bool = True) -> "RosterModel":
        self.add_variables()
        self.add_leave()
        for rid in self.HARD_BUILDERS:
            if self.p.on(rid):
                getattr(self, f"add_{rid}")()
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
        if self.p.on("backup_order"):
            self.add_backup_order()
        self.add_fairness()
        if self.p.on("requests"):
            self.add_requests()
        if self.p.on("visit_economy"):
            self.add_visit_economy()

    def set_objective(self) -> None:
        if self.soft:
            self.m.minimize(sum(s.coef * s.expr for s in self.soft))


def _rank_name(rank: int, n_backups: int) -> str:
    if rank == 0:
        return "本人"
    if rank <= n_backups:
        return f"{chr(ord('A') + rank)}岗"
    return "相邻网格"
