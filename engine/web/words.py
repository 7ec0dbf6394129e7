"""What the library's neutral names mean on a page: problem fields, history situations, roles, states.

The application layer names what a problem is about in words (输出文件夹, 数据目录, 考核月份) and tags
history situations with a code; the CLI maps them to its options and commands (engine/cli/common.py),
and the web, here, to what a clerk does on the page.
"""
from __future__ import annotations

from ..app.month import DATA_FOLDER, POLICY_FIELD
from ..app.notices import SETTINGS_FIELD
from ..history import MONTH_FIELD
from ..outputs import OUT_FOLDER

FIELD_WORDS = {OUT_FOLDER: "服务器上的输出文件夹（请联系系统管理员）", DATA_FOLDER: "服务器上的数据目录（请联系系统管理员）",
               SETTINGS_FIELD: "本单位发文设置（office.yaml）", POLICY_FIELD: "本单位考核细则", MONTH_FIELD: "考核月份"}

HINT_OF = {"no_history": "还没有存入任何月份：先在「本月数据」上传并运行一个月",
           "correct_new_month": "这是新的月份：请在「本月数据」运行",
           "policy_changed": "考核细则在该月存入后改过：请按新细则重新运行该月（按月份顺序）",
           "not_visible": ""}

STATE_LABELS = {"queued": "排队中", "running": "进行中", "done": "已完成", "failed": "未完成"}

ACTION_LABELS = {"login": "登录", "login.failed": "登录失败", "login.throttled": "登录被限制", "logout": "退出",
                 "user.add": "新建账号", "user.password": "修改密码", "upload": "上传文件", "mapping.save": "保存列对应",
                 "upload.mapped": "按列对应转换", "job.run_month": "提交：运行本月考核", "job.print_pack": "提交：生成打印材料",
                 "numbers.issue": "出文编号", "month.run": "存入月份结果", "numbers.add": "登记系统外文号", "download": "下载",
                 "denied": "越权访问被拒绝", "city.switch": "切换县（区）", "policy.draft": "新建细则草稿", "policy.edit": "修改细则草稿",
                 "policy.publish": "发布细则版本", "policy.publish.refused": "发布细则被拒绝", "policy.discard": "放弃细则草稿",
                 "policy.denied": "修改已发布细则被拒绝", "job.policy_preview": "提交：细则试算",
                 "appeal.file": "提出申诉", "appeal.approve": "批准申诉", "appeal.reject": "驳回申诉",
                 "job.correction": "提交：更正重算", "month.correct": "更正月份结果", "job.correction_notice": "提交：生成更正通知",
                 "notice.issue": "更正通知出文", "job.roster_town": "提交：排出镇街排班", "roster.edit": "手工调整排班",
                 "roster.undo": "撤销排班调整", "roster.leave": "登记请假", "roster.replan": "请假后重新调整排班",
                 "roster.publish": "发布排班", "roster.publish.refused": "发布排班被拒绝"}


def field_word(field: str) -> str:
    return FIELD_WORDS.get(field, field)

# Messages shown after a redirect (?msg=key): fixed texts, so a link cannot put words in the page.
FLASH = {"switched": "已切换县（区）：以下是该县（区）的数据。", "choose_county": "请先选择要办理的县（区）。",
         "uploaded": "已上传并检查。", "mapped": "已按列对应转换并重新检查；对应关系已保存，下月同样的表头会自动套用。",
         "user_added": "账号已建立。", "password": "密码已修改，请重新登录。", "logged_out": "已退出。",
         "submitted": "任务已提交。", "draft": "草稿已建立：可用表单或 YAML 编辑器修改，发布前可试算。",
         "saved": "已保存。", "published": "已发布：该版本自生效月份起用于考核，今后不能再修改。",
         "discarded": "草稿已放弃。", "filed": "申诉已提交，等待县级管理员审核。", "rejected": "申诉已驳回。",
         "roster_edited": "已调整，全部硬性规则校验通过。", "roster_broken": "已调整，但违反硬性规则（见下方，已标红）：可撤销或继续改正；违反规则的排班不能发布。",
         "roster_undone": "已撤销上一步。", "leave_added": "请假已登记：从请假开始日重新调整排班即可。",
         "roster_published": "排班已发布。"}
