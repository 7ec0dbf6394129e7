"""The catalogue of period rule kinds: one module each, listed once here.  A new kind an office
needs is one new module (its model and `evaluate`) and one line below."""
from __future__ import annotations

from .bottom_share import BottomShare
from .excellent import Excellent
from .grade import AnnualGrade, Grade
from .last_place_run import LastPlaceRun
from .never_criticised import NeverCriticised
from .scores import QuarterScore, YearScore
from .veto_count import VetoCount
from .wage_floor import WageFloor

PERIOD_KINDS = {
    "last_place_run": LastPlaceRun,        # 连续末位
    "bottom_share": BottomShare,           # 年内多次排名后 p%
    "veto_count": VetoCount,               # 年内多次一票否决
    "quarter_score": QuarterScore,         # 季度得分
    "year_score": YearScore,               # 年度得分
    "grade": Grade,                        # 任意期间的等次（月、季、半年、年）
    "annual_grade": AnnualGrade,           # 年度等次
    "excellent": Excellent,                # 优秀网格员
    "never_criticised": NeverCriticised,   # 全年未受通报批评
    "wage_floor": WageFloor,               # 年收入保障线
}
