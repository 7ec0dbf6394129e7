"""The bulletin's tables as a workbook (考核排名.xlsx): where a table is the point, an .xlsx."""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

from ..paysheet import write_tables_xlsx

__all__ = ["write_bulletin_xlsx"]


def write_bulletin_xlsx(ctx: Mapping, path: Path) -> None:
    month = ctx["month"]["label"]
    ranking = {"name": "考核排名", "title": f"{month}网格员考核排名",
               "columns": [(ctx["group_by"], "text", 12), ("名次", "int", 6), ("工号", "text", 9), ("姓名", "text", 9),
                           ("社区（村）", "text", 12), ("网格", "text", 9), ("得分", "score", 7), ("星级", "int", 6),
                           ("档次", "text", 10), ("绩效工资", "money", 11)],
               "rows": [[g["name"], r["rank"], r["worker_id"], r["name"], r["community"], r["grid"], r["score"],
                         r["stars"], r["band"], r["pay"]] for g in ctx["groups"] for r in g["ranking"]]}
    communities = {"name": "社区得分", "title": f"{month}各社区（村）得分情况（平均分四舍五入保留两位小数）",
                   "columns": [(ctx["group_by"], "text", 12), ("社区（村）", "text", 14), ("人数", "int", 6),
                               ("平均分", "score", 8), ("最高分", "score", 8), ("最低分", "score", 8),
                               ("一票否决", "int", 8)],
                   "rows": [[g["name"], c["name"], c["workers"], c["mean"], c["max"], c["min"], c["vetoes"]]
                            for g in ctx["groups"] for c in g["communities"]]}
    sheets = [ranking, communities]
    if ctx["consequences"]:
        sheets.append({"name": "跨月考核结果", "title": f"{month}跨月规则考核结果",
                       "columns": [("工号", "text", 9), ("姓名", "text", 9), ("社区（村）", "text", 12),
                                   ("规则", "text", 18), ("原因", "text", 60), ("本月扣发", "money", 10)],
                       "rows": [[c["worker_id"], c["name"], c["community"], c["label"], c["reason"], c["amount"]]
                                for c in ctx["consequences"]]})
    write_tables_xlsx(path, sheets, author=ctx["office"]["issuer"])
