"""The PDF step and the pack's files, against edited templates and odd registers (issue 12):
nothing fetched from outside the template folders, a time limit, PDF processes that die with the
run and hold no files, file names that cannot overwrite each other."""
from __future__ import annotations

import copy
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from engine.errors import DataError
from engine.notices import PackRequest, load_settings, render_print_pack
from engine.notices.pack import REPORTS_DIR
from engine.notices.settings import DEFAULT_SETTINGS
from test_notices import october, run, stored  # noqa: F401 - the stored history, October, the CLI

ROOT = Path(__file__).resolve().parents[1]
DATE = "2026-11-05"


@pytest.fixture()
def data(stored, tmp_path):
    """A fresh copy of the stored history (SQLite: nothing here is about the database)."""
    import shutil
    shutil.copytree(stored / "data", tmp_path / "data")
    return tmp_path / "data"


def own_templates(tmp_path, files: dict[str, str], extra: str = "") -> Path:
    own = tmp_path / "own"
    own.mkdir()
    for name, text in files.items():
        (own / name).write_text(text, encoding="utf-8")
    office = tmp_path / "office.yaml"
    office.write_text(DEFAULT_SETTINGS.read_text(encoding="utf-8") + "templates: own\n" + extra, encoding="utf-8")
    return office


def test_an_edited_template_cannot_attach_a_local_file(data, tmp_path):
    """Issue 12.10: WeasyPrint's own fetcher embeds file:///etc/passwd in the posted PDF."""
    secret = tmp_path / "secret.txt"
    secret.write_text("口令 123456", encoding="utf-8")
    gongwen = (REPORTS_DIR / "gongwen.html.j2").read_text(encoding="utf-8").replace(
        "<title>", f'<link rel="attachment" href="{secret.as_uri()}"><title>')
    office = own_templates(tmp_path, {"gongwen.html.j2": gongwen})
    out = tmp_path / "out"
    r = run("notices", "--month", "2026-10", "--data", data, "--out", out, "--office", office,
            "--only", "criticism", "--format", "pdf")
    assert r.exit_code == 2, r.output
    assert f"外部文件: 发现 '{secret.as_uri()}'，应为 只引用模板文件夹、样式和照片文件夹内的文件" in r.output
    assert not out.exists() or not any(out.iterdir())


def test_the_pdf_step_has_a_time_limit(data, tmp_path):
    """Issue 12.11: 100,000 paragraphs ran past 90 s.  The template renders in well under the
    limit; the PDF does not."""
    # 3 million characters to lay out: the template makes them in a moment, WeasyPrint takes minutes
    office = own_templates(tmp_path, {"criticism.html.j2": '{% extends "gongwen.html.j2" %}{% block body %}'
                                      '{% for i in range(3000) %}<p>{{ "网格" * 500 }}</p>{% endfor %}{% endblock %}'},
                           "render_time_limit: 8\n")
    out = tmp_path / "out"
    started = time.monotonic()
    r = run("notices", "--month", "2026-10", "--data", data, "--out", out, "--office", office,
            "--only", "criticism", "--format", "pdf")
    assert time.monotonic() - started < 90
    assert r.exit_code == 2, r.output
    assert "PDF生成时间: 发现 '超过 8 秒'，应为 在 render_time_limit（8 秒）内完成" in r.output
    assert not out.exists() or not any(out.iterdir())


SCRIPT = textwrap.dedent('''
    import os, sys, time
    sys.path.insert(0, {root!r})
    from engine.notices import pack

    held = open({held!r}, "w")          # stands for the history database the run has open

    def slow(task):
        fds = [os.readlink(f"/proc/self/fd/{{fd}}") for fd in os.listdir("/proc/self/fd")
               if os.path.exists(f"/proc/self/fd/{{fd}}")]
        # one write under PIPE_BUF (4,096 bytes), so the two children's lines never interleave
        line = f"CHILD {{os.getpid()}} {{{held!r} in fds}} " + "|".join(fds)
        os.write(1, (line.encode()[:4000].decode(errors="ignore") + "\\n").encode())
        time.sleep(120)
        return task[1], 1, None

    pack._pdf_task = slow
    list(pack._pdfs([("<p>x</p>", "a.pdf", False, "t"), ("<p>y</p>", "b.pdf", False, "t")], 2, [], 300))
''')


def test_pdf_processes_die_with_the_run_and_hold_no_files(tmp_path):
    """Issue 12.8: after a kill -9 during the PDF stage, the PDF processes lived on for minutes
    holding the history file.  The run is killed once both PDF processes are at work."""
    held = tmp_path / "history.sqlite3"
    script = tmp_path / "s.py"
    script.write_text(SCRIPT.format(root=str(ROOT), held=str(held)), encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    children = []
    try:
        while len(children) < 2:
            line = proc.stdout.readline()
            assert line, "the PDF processes did not start"
            children.append(line.split(maxsplit=3))
        os.kill(proc.pid, 9)
        assert proc.wait(timeout=30) == -9
    finally:
        if proc.poll() is None:
            proc.kill()
    assert all(c[2] == "False" for c in children), children      # the inherited file was closed
    deadline = time.monotonic() + 15
    alive = [int(c[1]) for c in children]
    while alive and time.monotonic() < deadline:
        alive = [pid for pid in alive if _running(pid)]
        time.sleep(0.2)
    assert alive == []


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in state


def with_towns(results: dict, towns: dict[str, str]) -> dict:
    res = copy.deepcopy(results)
    for w in res["workers"]:
        w["town"] = towns.get(w["town"], w["town"])
    return res


def test_towns_whose_file_names_would_collide_stop_the_pack(october, tmp_path):
    """Issue 12.13: 东城/北 and 东城:北 both became 考核结果通知单-东城_北.html; one town's slips lost."""
    res = with_towns(october, {"鹤山镇": "东城/北", "凤凰街道": "东城:北"})
    with pytest.raises(DataError) as exc:
        render_print_pack(PackRequest(res, load_settings(DEFAULT_SETTINGS), only={"slips"}, formats={"html"}),
                          tmp_path, date=DATE)
    [problem] = exc.value.problems
    assert (problem.field, problem.found) == ("乡镇（街道）", "东城/北、东城:北")
    assert "东城_北" in problem.hint and not any(tmp_path.iterdir())


def test_a_very_long_town_name_makes_a_file_name_that_fits(october, tmp_path):
    """Issue 12.16: a 200-character town name made the file system refuse the name, blamed on --out."""
    long = "很长的乡镇名称" * 30
    res = with_towns(october, {"鹤山镇": long})
    pack, _ = render_print_pack(PackRequest(res, load_settings(DEFAULT_SETTINGS), only={"slips"}, formats={"html"}),
                                tmp_path, date=DATE)
    names = [n for n in pack.files if n != "考核结果通知单-凤凰街道.html"]
    assert len(names) == 1 and len(names[0].encode()) < 255 and names[0].startswith("考核结果通知单-很长的乡镇名称")
    assert long in (tmp_path / names[0]).read_text(encoding="utf-8")     # the paper still says it in full


def test_the_pdf_time_limit_holds_outside_the_main_thread_too():
    """A web server renders in worker threads, where no SIGALRM can be had: the PDF goes to a
    process of its own, where the limit holds."""
    import threading

    from engine.notices.pack import _pdfs
    html = "<html><body>" + "".join(f"<p>第{i}段</p>" for i in range(30000)) + "</body></html>"
    got, failed = [], []

    def render():
        try:
            got.extend(_pdfs([(html, "/nonexistent/x.pdf", False, "t.html.j2")], 1, [], 2))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            failed.append(repr(exc))
    thread = threading.Thread(target=render)
    started = time.monotonic()
    thread.start()
    thread.join(90)
    assert not thread.is_alive() and not failed, failed
    assert time.monotonic() - started < 90
    [(path, pages_, problem)] = got
    assert (problem.file, problem.field, problem.found) == ("t.html.j2", "PDF生成时间", "超过 2 秒")
