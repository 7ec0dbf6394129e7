"""The coverage check: verifies every hard rule on a roster, independently of the model.

It reads only the problem data and the roster's plain dictionaries (who is on which shift,
who patrols which grid, visits, fire checks) and recomputes each rule from its definition in
rules.py, so a modelling mistake in constraints.py shows up here as a violation.  It checks
solved rosters and hand-edited ones alike (importer.py).

Each violation is a `Violation`: its Chinese text, and where it is (a unit — a person or
TEAM + team — and/or a grid, and a day when it is about one day), so that a hand-edited roster's
violations can be pointed at the cell that breaks them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .model import TEAM, RosterProblem
from .rules import CATALOG, FAIR_IDS, PATROL_ROLES
from .solve import Roster


class Violation(str):
    """A violation's text, and where: `unit` (person id or TEAM + team id), `grid`, `day` (index)."""

    unit: str | None
    grid: str | None
    day: int | None

    def __new__(cls, text: str, unit: str | None = None, day: int | None = None, grid: str | None = None):
        obj = super().__new__(cls, text)
        obj.unit, obj.day, obj.grid = unit, day, grid
        return obj


@dataclass
class RuleCheck:
    rule: str
    checked: int = 0
    violations: list[Violation] = field(default_factory=list)

    @property
    def label(self) -> str:
        return CATALOG[self.rule].label

    @property
    def ok(self) -> bool:
        return not self.violations

    def add(self, text: str, unit: str | None = None, day: int | None = None, grid: str | None = None) -> None:
        self.violations.append(Violation(text, unit, day, grid))


def check_roster(ro: Roster) -> list[RuleCheck]:
    return _Checker(ro).run()


class _Checker:
    def __init__(self, ro: Roster):
        self.ro, self.p = ro, ro.problem
        self.cal, self.n = self.p.cal, self.p.cal.days
        self.leave = {pid: self.p.leave_days(pid) for pid in self.p.people}
        self.out: dict[str, RuleCheck] = {}
        self.period = "本月" if self.cal.is_month else "本期"

    def rc(self, rule: str) -> RuleCheck:
        return self.out.setdefault(rule, RuleCheck(rule))

    def on(self, u: str, d: int) -> bool:
        if d < 0:
            h = self.p.history
            return bool(h and h.shift(u, d))
        return (u, d) in self.ro.duty

    def known(self, u: str, d: int) -> bool:
        """Whether day d of unit u is known: a day of the period, or of the previous roster's history."""
        if d >= 0:
            return d < self.n
        h = self.p.history
        return h is not None and h.known(u) and d >= -h.days

    def units(self, roles) -> list[str]:
        us = [pid for pid, x in self.p.people.items() if x.role in roles and x.role != "squad"]
        if "squad" in roles:
            us += [TEAM + t for t in self.p.teams]
        return us

    def uname(self, u: str) -> str:
        return f"班组{u[len(TEAM):]}" if u.startswith(TEAM) else self.p.people[u].name

    def label(self, s) -> str:
        return self.p.shift_labels.get(s, s)

    def run(self) -> list[RuleCheck]:
        p = self.p
        self.check_leave()
        if p.kind == "patrol":
            self.check_patrol()
        for rule in ("rest_in_window", "max_consecutive_work", "min_consecutive_work", "min_consecutive_off",
                     "forbidden_succession", "shift_eligibility", "shift_caps", "shift_min_cover", "max_weekends",
                     "max_working_weekends", "total_days", "working_time"):
            if p.on(rule):
                getattr(self, f"check_{rule}")()
        if p.kind == "patrol":
            for rule in ("shift_cover", "department_4plus1", "publicity_day", "working_days", "duty_cover"):
                if p.on(rule):
                    getattr(self, f"check_{rule}")()
        self.check_spreads()
        # A rule with nothing to check here (no night shifts, nobody with a limit, no visitors) is not listed.
        return [self.out[r] for r in CATALOG if r in self.out and (self.out[r].checked or self.out[r].violations)]

    # ------------------------------------------------------------------ facts and patrol

    def check_leave(self) -> None:
        """Leave is a fact: a roster that puts someone on a day of leave is wrong whatever the rules."""
        p, c = self.p, self.rc("leave")
        for pid, days in self.leave.items():
            if p.people[pid].role == "squad":
                continue
            c.checked += len(days)
            for d in sorted(days):
                if self.on(pid, d):
                    c.add(f"{p.people[pid].name} {self.cal.label(d)} 请假却被排班", pid, d)
        for t in p.teams:
            for d in sorted(p.team_away(t)):
                c.checked += 1
                if self.on(TEAM + t, d):
                    c.add(f"班组{t} {self.cal.label(d)} 全体队员请假却被排班", TEAM + t, d)

    def check_patrol(self) -> None:
        p, ro, cal, n = self.p, self.ro, self.cal, self.n
        c = self.rc("grid_cover")
        joint = p.on("joint_patrol") and p.rule("joint_patrol")["allowed"]
        for g, grid in p.grids.items():
            allowed = {grid.worker, *grid.backups}
            if joint:
                allowed |= {p.grids[a].worker for a in grid.adjacent if a in p.grids and p.grids[a].town == grid.town}
            for d in range(n):
                c.checked += 1
                who = ro.patrol.get((g, d))
                if who is None:
                    c.add(f"网格 {g} {cal.label(d)} 无人巡查", grid=g, day=d)
                elif who not in allowed:
                    c.add(f"网格 {g} {cal.label(d)} 由非本人、非AB岗人员 {p.people[who].name} 巡查", grid=g, day=d)
                elif not self.on(who, d):
                    c.add(f"网格 {g} {cal.label(d)} 的巡查人 {p.people[who].name} 当日不在岗", grid=g, day=d)
                if p.on("own_grid_first") and self.on(grid.worker, d) and who != grid.worker:
                    self.rc("own_grid_first").add(f"{p.people[grid.worker].name} {cal.label(d)} 在岗但未巡查本网格 {g}",
                                                  grid.worker, d, g)
        if p.on("own_grid_first"):
            self.rc("own_grid_first").checked = len(p.grids) * n

        if p.on("fire_check"):
            c = self.rc("fire_check")
            per = p.rule("fire_check")["per_month"]
            for g, grid in p.grids.items():
                c.checked += 1
                days = ro.fire.get(g, [])
                if len(days) != per:
                    c.add(f"网格 {g} 本月消防检查 {len(days)} 次，应为 {per} 次", grid=g)
                for d in days:
                    if cal.is_rest_day[d] or ro.patrol.get((g, d)) != grid.worker:
                        c.add(f"网格 {g} {cal.label(d)} 的消防检查不是本人在工作日完成", grid=g, day=d)

        if p.on("max_grids_per_day"):
            c = self.rc("max_grids_per_day")
            load: dict[tuple[str, int], list[int]] = {}
            for (g, d), who in ro.patrol.items():
                x = load.setdefault((who, d), [0, 0])
                x[0] += 1
                x[1] += p.rounds(g, d) + (1 if d in ro.fire.get(g, []) else 0)
            for (who, d), (grids_, rounds) in load.items():
                c.checked += 1
                most_g, most_r = p.grid_cap(d)
                if grids_ > most_g or rounds > most_r:
                    c.add(f"{p.people[who].name} {cal.label(d)} 巡查 {grids_} 个网格、{rounds} 次，超过上限（{most_g} 个、{most_r} 次）",
                          who, d)

        h = p.history
        for rule, visitor_of in (("supervisor_visits", {g: x.supervisor for g, x in p.grids.items() if x.supervisor}),
                                 ("manager_visits", {g: p.communities[x.community].manager for g, x in p.grids.items()
                                                     if p.communities[x.community].manager})):
            if not p.on(rule):
                continue
            r = p.rule(rule)
            w = r["window"]
            c = self.rc(rule)
            for g, v in visitor_of.items():
                days = {d for (pv, gv, d) in ro.visits if pv == v and gv == g}
                known = h is not None and h.known(v)
                if known:
                    days |= {d for (pv, gv, d) in h.visits if pv == v and gv == g}
                for s in range(-(w - 1) if known else 0, n - w + 1):
                    c.checked += 1
                    if not days & set(range(s, s + w)):
                        start = cal.label(s) if s >= 0 else f"本期开始前 {-s} 天"
                        c.add(f"{p.people[v].name} {start} 起 {w} 天内未到网格 {g}", v, max(s, 0), g)
            per_day: dict[tuple[str, int], int] = {}
            for (pv, gv, d) in ro.visits:
                if visitor_of.get(gv) == pv:
                    per_day[pv, d] = per_day.get((pv, d), 0) + 1
            for (pv, d), k in per_day.items():
                if k > r["max_per_day"]:
                    c.add(f"{p.people[pv].name} {cal.label(d)} 走访 {k} 个网格，超过 {r['max_per_day']}", pv, d)

    # ------------------------------------------------------------------ working time

    def check_rest_in_window(self) -> None:
        r = self.p.rule("rest_in_window")
        w, off = r["window"], r["min_off"]
        c = self.rc("rest_in_window")
        for u in self.units(r["applies_to"]):
            for s in range(-(w - 1), self.n - w + 1):
                if not self.known(u, s):
                    continue
                c.checked += 1
                rest = w - sum(self.on(u, d) for d in range(s, s + w))
                if rest < off:
                    start = self.cal.label(s) if s >= 0 else f"上期最后 {-s} 天"
                    c.add(f"{self.uname(u)} {start} 起 {w} 天只休息 {rest} 天", u, s + w - 1)

    def check_max_consecutive_work(self) -> None:
        c = self.rc("max_consecutive_work")
        for u in self.units(self.p.rule("max_consecutive_work")["applies_to"]):
            k = self.p.param(u, "max_consecutive_work", "days")
            c.checked += 1
            run = 0
            h = self.p.history
            for d in range(-(h.days if h and h.known(u) else 0), self.n):
                run = run + 1 if self.on(u, d) else 0
                # Once a run, where it first goes beyond k, or on the first day when the previous
                # roster's run already had (a limit lowered since, or a roster published with --relax).
                if d >= 0 and (run == k + 1 or (d == 0 and run > k)):
                    c.add(f"{self.uname(u)} 到 {self.cal.label(d)} 已连续工作 {run} 天（最多 {k} 天）", u, d)

    def _runs(self, u: str) -> list[tuple[int, int, bool]]:
        """(first day, length, working) of each run of u, from the history's first known day; a run
        touching an unknown edge (before the history, after the period) is marked by first/end."""
        h = self.p.history
        start = -(h.days if h and h.known(u) else 0)
        out, d = [], start
        while d < self.n:
            state, e = self.on(u, d), d
            while e < self.n and self.on(u, e) == state:
                e += 1
            out.append((d, e - d, state))
            d = e
        return out

    def _check_min_runs(self, rule: str, working: bool, what: str) -> None:
        c = self.rc(rule)
        for u in self.units(self.p.rule(rule)["applies_to"]):
            k = self.p.param(u, rule, "days")
            if k <= 1:
                continue        # every run lasts a day at least
            c.checked += 1
            runs = self._runs(u)
            for i, (d, length, state) in enumerate(runs):
                # A run touching the first known day or the period's end is not judged: it may go on.
                # One ending on the previous period's last day is, as the model forbids it: the first
                # day ends it, and the previous period's check left it open.
                if state != working or i == 0 or d + length >= self.n or d + length < 0:
                    continue
                if length < k:
                    first = self.cal.label(d) if d >= 0 else f"上期最后 {-d} 天"
                    c.add(f"{self.uname(u)} {first}起只连续{what} {length} 天（至少 {k} 天）", u, max(d, 0))

    def check_min_consecutive_off(self) -> None:
        self._check_min_runs("min_consecutive_off", False, "休息")

    def check_min_consecutive_work(self) -> None:
        self._check_min_runs("min_consecutive_work", True, "上班")

    def check_forbidden_succession(self) -> None:
        p, c = self.p, self.rc("forbidden_succession")
        units = [TEAM + t for t in p.teams] + [pid for pid, x in p.people.items() if x.role == "shift_worker"]
        h = p.history
        for u in units:
            for a, b in p.rule("forbidden_succession")["pairs"]:
                for d in range(-1, self.n - 1):
                    before = (h.shift(u, -1) if h else None) if d < 0 else self.ro.duty.get((u, d))
                    c.checked += 1
                    if before == a and self.ro.duty.get((u, d + 1)) == b:
                        when = self.cal.label(d) if d >= 0 else "上期最后一天"
                        c.add(f"{self.uname(u)} {when} {self.label(a)}班后次日上{self.label(b)}班", u, d + 1)

    def check_shift_eligibility(self) -> None:
        p, c = self.p, self.rc("shift_eligibility")
        for pid, x in p.people.items():
            if x.role != "shift_worker":
                continue
            for d in range(self.n):
                s = self.ro.duty.get((pid, d))
                c.checked += 1
                if s is not None and s not in p.person_shifts:
                    c.add(f"{x.name} {self.cal.label(d)} 排了不存在的班次 {s}", pid, d)
                elif s is not None and x.shifts is not None and s not in x.shifts:
                    c.add(f"{x.name} {self.cal.label(d)} 上{self.label(s)}班，此人只上 "
                          + "、".join(self.label(t) for t in x.shifts) + " 班", pid, d)

    def check_shift_caps(self) -> None:
        p, c = self.p, self.rc("shift_caps")
        default = p.rule("shift_caps")["max"]
        for pid, x in p.people.items():
            if x.role != "shift_worker":
                continue
            for s in p.person_shifts:
                cap = x.caps.get(s, default.get(s))
                if cap is None:
                    continue
                c.checked += 1
                k = sum(1 for d in range(self.n) if self.ro.duty.get((pid, d)) == s)
                if k > cap:
                    c.add(f"{x.name} {self.period}上 {k} 个{self.label(s)}班，最多 {cap} 个", pid)

    def check_shift_min_cover(self) -> None:
        p, c = self.p, self.rc("shift_min_cover")
        for (d, s), dem in sorted(p.demand.items()):
            if dem.min <= 0:
                continue
            c.checked += 1
            k = sum(1 for pid, x in p.people.items() if x.role == "shift_worker" and self.ro.duty.get((pid, d)) == s)
            if k < dem.min:
                c.add(f"{self.cal.label(d)} {self.label(s)}班 {k} 人，至少 {dem.min} 人", day=d)

    def check_max_weekends(self) -> None:
        r = self.p.rule("max_weekends")
        if r["max"] is None:
            return
        c = self.rc("max_weekends")
        wk = [d for d in range(self.n) if self.cal.is_weekend[d] and self.cal.is_rest_day[d]]
        for u in self.units(r["applies_to"]):
            c.checked += 1
            k = sum(1 for d in wk if self.on(u, d))
            if k > r["max"]:
                c.add(f"{self.uname(u)} 周末值班 {k} 天，超过 {r['max']}", u)

    def check_max_working_weekends(self) -> None:
        c = self.rc("max_working_weekends")
        weekends = self.cal.weekends()
        for u in self.units(self.p.rule("max_working_weekends")["applies_to"]):
            most = self.p.param(u, "max_working_weekends", "max")
            if most is None:
                continue
            c.checked += 1
            k = sum(1 for days in weekends if any(self.on(u, d) for d in days))
            if k > most:
                c.add(f"{self.uname(u)} {self.period}上了 {k} 个周末，最多 {most} 个", u)

    def check_total_days(self) -> None:
        c = self.rc("total_days")
        for u in self.units(self.p.rule("total_days")["applies_to"]):
            lo0, hi = self.p.param(u, "total_days", "min"), self.p.param(u, "total_days", "max")
            if lo0 is None and hi is None:
                continue
            c.checked += 1
            k = sum(self.on(u, d) for d in range(self.n))
            lo = None if lo0 is None else max(0, lo0 - len(self.p.away(u)))
            if (lo is not None and k < lo) or (hi is not None and k > hi):
                c.add(f"{self.uname(u)} {self.period}工作 {k} 天，应在 {lo if lo is not None else 0}～{hi if hi is not None else self.n} 天", u)

    def check_working_time(self) -> None:
        p, c = self.p, self.rc("working_time")
        r = p.rule("working_time")
        for u in self.units(r["applies_to"]):
            if u.startswith(TEAM):
                continue
            lo_h, hi_h = p.param(u, "working_time", "min_hours"), p.param(u, "working_time", "max_hours")
            if lo_h is None and hi_h is None:
                continue
            c.checked += 1
            minutes = sum(p.minutes(self.ro.duty[u, d]) for d in range(self.n) if (u, d) in self.ro.duty)
            credit = round(r["leave_hours"] * 60) * len(self.leave.get(u, ()))
            lo = None if lo_h is None else max(0, round(lo_h * 60) - credit)
            if (lo is not None and minutes < lo) or (hi_h is not None and minutes > round(hi_h * 60)):
                span = f"{(lo or 0) / 60:g}～{'不限' if hi_h is None else f'{hi_h:g}'}"
                c.add(f"{self.uname(u)} {self.period}工作 {minutes / 60:g} 小时，应在 {span} 小时", u)

    # ------------------------------------------------------------------ patrol-only rules

    def check_shift_cover(self) -> None:
        p = self.p
        if not p.teams:
            return
        c = self.rc("shift_cover")
        r = p.rule("shift_cover")
        for town in p.towns:
            ts = [t for t, team in p.teams.items() if team.town == town]
            if not ts:
                continue
            for d in range(self.n):
                for s, opt in r["shifts"].items():
                    c.checked += 1
                    on = [t for t in ts if self.ro.duty.get((TEAM + t, d)) == s]
                    present = sum(1 for t in on for mbr in p.teams[t].members if d not in self.leave[mbr])
                    need = opt.get("min_strength", 0)
                    if self.cal.is_key[d] and r["key_day_min_strength"] is not None:
                        need = max(need, r["key_day_min_strength"])
                    if len(on) < opt.get("min_teams", 1) or present < need:
                        c.add(f"{town} {self.cal.label(d)} {self.label(s)}班 {len(on)} 个班组、{present} 人，不足", day=d)

    def check_department_4plus1(self) -> None:
        p, cal, c = self.p, self.cal, self.rc("department_4plus1")
        weeks: dict[tuple, list[int]] = {}
        for d, day in enumerate(cal.dates):
            weeks.setdefault(day.isocalendar()[:2], []).append(d)
        for pid, x in p.people.items():
            if x.role != "department":
                continue
            for days in weeks.values():
                c.checked += 1
                wd = [d for d in days if not cal.is_rest_day[d]]
                at = sum(1 for d in wd if self.on(pid, d))
                low = max(0, len(wd) - 1 - sum(1 for d in wd if d in self.leave[pid]))
                for d in days:
                    if cal.is_rest_day[d] and self.on(pid, d):
                        c.add(f"{x.name} {cal.label(d)}（休息日）到岗", pid, d)
                if (len(wd) >= 5 and at > len(wd) - 1) or (wd and at < low):
                    c.add(f"{x.name} {cal.label(days[0])} 所在周到街道 {at} 天，不符合“4+1”", pid, days[0])

    def check_publicity_day(self) -> None:
        p, c = self.p, self.rc("publicity_day")
        d = self.cal.first_working_monday
        if d is None:
            return
        for pid, x in p.people.items():
            if x.role in PATROL_ROLES and d not in self.leave[pid]:
                c.checked += 1
                if not self.on(pid, d):
                    c.add(f"{x.name} {self.cal.label(d)}（消防宣传日）未在岗", pid, d)

    def check_working_days(self) -> None:
        p, c = self.p, self.rc("working_days")
        r = p.rule("working_days")
        for u in self.units(r["applies_to"]):
            if u.startswith(TEAM):
                continue
            c.checked += 1
            target = p.target_days(u)
            k = sum(self.on(u, d) for d in range(self.n))
            hi, lo = target + r["extra_days"], None if r["below"] is None else max(0, target - r["below"])
            if k > hi or (lo is not None and k < lo):
                c.add(f"{self.uname(u)} {self.period}工作 {k} 天，法定工作日 {target} 天（已减请假），"
                      f"应在 {lo if lo is not None else 0}～{hi} 天", u)

    def check_duty_cover(self) -> None:
        p, c = self.p, self.rc("duty_cover")
        r = p.rule("duty_cover")
        by_comm: dict[str, set[str]] = {}
        for grid in p.grids.values():
            by_comm.setdefault(grid.community, set()).add(grid.worker)
        for pid, x in p.people.items():
            if x.role in PATROL_ROLES and x.community in by_comm:
                by_comm[x.community].add(pid)
        groups = []
        if r["per_community"]:
            groups += [(p.communities[cm].name, ps, r["per_community"]) for cm, ps in sorted(by_comm.items())]
        if r["per_town"]:
            groups += [(t, {pid for pid, x in p.people.items() if x.role in PATROL_ROLES and x.town == t}, r["per_town"])
                       for t in p.towns]
        for where, ps, need in groups:
            for d in range(self.n):
                if self.cal.is_rest_day[d]:
                    c.checked += 1
                    k = sum(1 for pid in ps if self.on(pid, d))
                    if k < need:
                        c.add(f"{where} {self.cal.label(d)}（休息日）{k} 人值班，至少 {need} 人", day=d)

    # ------------------------------------------------------------------ fairness limits

    def check_spreads(self) -> None:
        """The hard limits of the fairness rules (`max_spread`): most − fewest within each group."""
        p, cal = self.p, self.cal
        weekend = [d for d in range(self.n) if cal.is_weekend[d] and cal.is_rest_day[d] and not cal.is_holiday[d]]
        holiday = [d for d in range(self.n) if cal.is_holiday[d]]
        for rule in FAIR_IDS:
            if not p.on(rule) or p.rule(rule)["max_spread"] is None:
                continue
            k = p.rule(rule)["max_spread"]
            c = self.rc(rule)
            for town, group, us in fair_groups(p):
                if rule == "fair_backup" and group != "patrol" or rule == "fair_nights" and group == "patrol":
                    continue
                counts: dict[str, int] = {}
                days: list[int] = []
                if rule == "fair_backup":
                    for (g, d), who in self.ro.patrol.items():
                        if who != p.grids[g].worker and who in us:
                            counts[who] = counts.get(who, 0) + 1
                    cands = {b for g in p.grids.values() for b in g.backups}
                    if p.on("joint_patrol") and p.rule("joint_patrol")["allowed"]:
                        cands |= {p.grids[a].worker for g in p.grids.values() for a in g.adjacent
                                  if a in p.grids and p.grids[a].town == g.town and p.grids[a].worker != g.worker}
                    counts = {u: counts.get(u, 0) for u in us if u in cands}
                    full = {u for u in counts if not self.leave[u]}
                else:
                    days = {"fair_days": list(range(self.n)), "fair_weekends": weekend, "fair_holidays": holiday,
                            "fair_nights": list(range(self.n))}[rule]
                    if not days:
                        continue
                    if rule == "fair_nights":
                        # Among those who may work a night shift at all.
                        shifts = p.team_shifts if group == "teams" else p.person_shifts
                        us = [u for u in us if any(p.is_night(s) and may_work(p, u, s) for s in shifts)]
                        counts = {u: sum(1 for d in days if p.is_night(self.ro.duty.get((u, d)))) for u in us}
                    else:
                        counts = {u: sum(1 for d in days if self.on(u, d)) for u in us}
                    full = {u for u in us if not (p.away(u) & set(days))}
                base = [counts[u] for u in counts if u in full]
                if len(base) < 2:
                    continue
                c.checked += 1
                hi, lo = max(counts.values()), min(base)
                if hi - lo > k:
                    most = [self.uname(u) for u in counts if counts[u] == hi]
                    fewest = [self.uname(u) for u in counts if u in full and counts[u] == lo]
                    c.add(f"{town}{_GROUP[group]} 最多 {hi}（{'、'.join(most[:3])}）、最少 {lo}（{'、'.join(fewest[:3])}），"
                          f"相差 {hi - lo}，超过 {k}")


_GROUP = {"patrol": "网格员", "teams": "班组", "shift": "值班人员"}


def fair_groups(p: RosterProblem) -> list[tuple[str, str, list[str]]]:
    """(town, group, units) as the fairness rules compare them: grid workers and co-managers, squad
    teams, people rostered by shift (written again here, independently of constraints.py)."""
    out = []
    for town in p.towns:
        patrol = [pid for pid, x in p.people.items() if x.role in PATROL_ROLES and x.town == town]
        teams = [TEAM + t for t, team in p.teams.items() if team.town == town]
        shift = [pid for pid, x in p.people.items() if x.role == "shift_worker" and x.town == town]
        out += [(town, g, us) for g, us in (("patrol", patrol), ("teams", teams), ("shift", shift)) if us]
    return out


def may_work(p: RosterProblem, u: str, s: str) -> bool:
    """Whether unit u may work shift s at all (a person's 可上班次, when the rule is on)."""
    person = p.people.get(u)
    return not (p.on("shift_eligibility") and person is not None and person.shifts is not None and s not in person.shifts)
