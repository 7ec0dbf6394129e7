"""The `wangge` command line.  Only this package formats errors for people; nothing imports it.

Each module in this package adds its commands to `main` through a `register(group)`
function, so features (scoring, history, rosters, notices) keep their commands beside
each other without editing one shared file.
"""
from __future__ import annotations

import importlib
import pkgutil

import click

from .common import chinese_usage, run_guarded

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="wangge")
def main() -> None:
    """wangge（网格）：网格员考核、绩效工资、巡查排班与通报。

    常用：wangge demo 用内置示例数据跑一遍月度考核。
    """


for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _info.name == "common" or _info.name.startswith("_"):
        continue
    _mod = importlib.import_module(f"{__name__}.{_info.name}")
    if hasattr(_mod, "register"):
        _mod.register(main)
chinese_usage(main)
