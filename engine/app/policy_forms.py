"""Forms for the rule forms of the catalogue, made from their models.

Every rule form of engine/kinds has a pydantic model; its fields and their types say what a form
needs (a metric to choose, a number, an interval, a list of tiers, a quota that may depend on a
worker attribute …).  `rule_form(kind)` turns the model into a list of `FormField`s, with Chinese
labels from policy_view.FIELD_LABELS, so that a new form added to the catalogue gets a form of its
own with no change here or in the pages (its fields are named by their keys until a label is
added).  `form_values(fields, spec)` fills a form from a rule as written, and
`spec_from_values(fields, values)` reads the submitted form back into the plain mapping the YAML
file holds; what a clerk typed is kept as typed where it is not a number, so that the policy check
says what is wrong with it, at its line, like `wangge validate`.

Input names are the dotted paths the policy check uses in its problems (`tiers[1].points`), so a
problem is shown next to the field it is about.
"""
from __future__ import annotations

import re
import types
import typing
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, Mapping, Union

from pydantic import BaseModel

from ..intervals import Interval
from ..kinds import KINDS
from ..policy_values import QuotaBy
from .policy_view import VALUE_LABELS, field_label

__all__ = ["FormField", "rule_form", "common_fields", "form_values", "spec_from_values", "SPARE_ROWS"]

SPARE_ROWS = 2        # empty rows offered under a table (a new tier, a new term)
_SPLIT = re.compile(r"[,，、;；\s]+")


@dataclass
class FormField:
    name: str                      # the YAML key (its alias when it has one: `from`)
    label: str
    widget: str                    # metric series text number numbers interval choice tristate check names
                                   # rows group quota map
    required: bool = False
    choices: list[tuple[str, str]] = field(default_factory=list)     # (value, label) of a choice
    fields: list["FormField"] = field(default_factory=list)         # a table's columns, a group's fields
    suggest: str = ""              # names: categories | severities; text: stages

    def as_dict(self) -> dict:
        return {"name": self.name, "label": self.label, "widget": self.widget, "required": self.required,
                "choices": self.choices, "fields": [f.as_dict() for f in self.fields], "suggest": self.suggest}


def _unwrap(tp: Any) -> tuple[Any, bool]:
    """The type inside Optional[...] and Annotated[...], and whether None is allowed."""
    optional = False
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
            continue
        if origin in (Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            optional = optional or len(args) < len(typing.get_args(tp))
            if len(args) == 1:
                tp = args[0]
                continue
            return tp, optional
        return tp, optional


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _number(tp: Any) -> bool:
    return tp in (Decimal, int, float)


def _field(model: type[BaseModel], name: str, info) -> FormField:
    key = info.alias or name
    label = field_label(model.__name__, name)
    tp, optional = _unwrap(typing.get_type_hints(model, include_extras=True)[name])
    required = info.is_required()
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (Union, types.UnionType):
        inner = [_unwrap(a)[0] for a in args if a is not type(None)]
        if any(a is QuotaBy for a in inner):
            return FormField(key, label, "quota", required)
        return FormField(key, label, "text", required)
    if origin is Literal:
        return FormField(key, label, "choice", required,
                         [(str(v), VALUE_LABELS.get(str(v), str(v))) for v in args])
    if tp is bool:
        return FormField(key, label, "tristate" if optional else "check", required)
    if _number(tp):
        return FormField(key, label, "number", required)
    if tp is Interval:
        return FormField(key, label, "interval", required)
    if tp is str:
        widget = {"metric": "metric", "series": "series"}.get(key, "text")
        suggest = "stages" if key in ("from", "to") else ""
        return FormField(key, label, widget, required, suggest=suggest)
    if origin is list:
        item, _ = _unwrap(args[0]) if args else (str, False)
        if _is_model(item):
            return FormField(key, label, "rows", required, fields=model_fields(item))
        if _number(item):
            return FormField(key, label, "numbers", required)
        return FormField(key, label, "names", required,
                         suggest={"category": "categories", "severity": "severities"}.get(key, ""))
    if origin is dict:
        value = _unwrap(args[1])[0] if len(args) == 2 else str
        vw = "number" if _number(value) else "interval" if value is Interval else "text"
        return FormField(key, label, "map", required, fields=[FormField("key", "名称", "text"),
                                                              FormField("value", "值", vw)])
    if _is_model(tp):
        return FormField(key, label, "group", required, fields=model_fields(tp))
    return FormField(key, label, "text", required)


def model_fields(model: type[BaseModel], skip: tuple[str, ...] = ()) -> list[FormField]:
    return [_field(model, name, info) for name, info in model.model_fields.items() if name not in skip]


def rule_form(kind: str) -> list[FormField]:
    """The fields of a rule form of the catalogue."""
    return model_fields(KINDS[kind].model)


def common_fields(earn: bool) -> list[FormField]:
    """What every rule has besides its form: id, label, cap, reason, and in an earn item the effect."""
    out = [FormField("id", "规则编号（字母、数字、_、-）", "text", True), FormField("label", "名称", "text", True),
           FormField("cap", "本条最多（分）", "number"), FormField("reason", "理由写法（可用占位符，留空用默认写法）", "text")]
    if earn:
        out.append(FormField("effect", "得分或扣分", "choice", False, [("earn", "得分"), ("deduct", "扣分")]))
    return out


# --------------------------------------------------------------------------- values <-> a rule as written


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, Decimal):
        return format(v.normalize(), "f") if v == v.to_integral_value() else format(v, "f")
    return str(v)


def form_values(fields: list[FormField], spec: Mapping[str, Any] | None, prefix: str = "") -> dict[str, str]:
    """Input name -> text, from a rule's form as the YAML holds it (plain values)."""
    spec = spec or {}
    out: dict[str, str] = {}
    for f in fields:
        name = prefix + f.name
        v = spec.get(f.name) if isinstance(spec, Mapping) else None
        if f.widget in ("numbers", "names"):
            out[name] = "、".join(_text(x) for x in v) if isinstance(v, list) else _text(v)
        elif f.widget == "rows":
            for i, row in enumerate(v if isinstance(v, list) else []):
                out.update(form_values(f.fields, row if isinstance(row, Mapping) else {}, f"{name}[{i}]."))
        elif f.widget == "group":
            out.update(form_values(f.fields, v if isinstance(v, Mapping) else {}, name + "."))
        elif f.widget == "map":
            for i, (k, x) in enumerate((v or {}).items() if isinstance(v, Mapping) else []):
                out[f"{name}[{i}].key"], out[f"{name}[{i}].value"] = _text(k), _text(x)
        elif f.widget == "quota":
            if isinstance(v, Mapping):
                out[name + ".by"] = _text(v.get("by"))
                for i, (k, x) in enumerate((v.get("values") or {}).items()):
                    out[f"{name}.values[{i}].key"], out[f"{name}.values[{i}].value"] = _text(k), _text(x)
                out[name + ".default"] = _text(v.get("default"))
            else:
                out[name] = _text(v)
        else:
            out[name] = _text(v)
    return out


def _num(text: str) -> Any:
    """A number where it is one (as YAML writes it), else the text as typed (the check says why)."""
    t = text.strip()
    try:
        d = Decimal(t)
    except InvalidOperation:
        return t
    if not d.is_finite():
        return t
    return int(d) if d == d.to_integral_value() and "." not in t else float(t) if len(t) < 16 else t


def _rows_count(values: Mapping[str, str], name: str) -> int:
    rx = re.compile(re.escape(name) + r"\[(\d+)\]\.")
    found = [int(m.group(1)) for k in values if (m := rx.match(k))]
    return max(found) + 1 if found else 0


def spec_from_values(fields: list[FormField], values: Mapping[str, str], prefix: str = "") -> dict[str, Any]:
    """The submitted form as the plain mapping the YAML file holds (empty fields left out)."""
    out: dict[str, Any] = {}
    for f in fields:
        name = prefix + f.name
        raw = str(values.get(name, "") or "").strip()
        if f.widget in ("number",):
            if raw:
                out[f.name] = _num(raw)
        elif f.widget == "numbers":
            if raw:
                out[f.name] = [_num(x) for x in _SPLIT.split(raw) if x]
        elif f.widget == "names":
            if raw:
                got = [x for x in _SPLIT.split(raw) if x]
                out[f.name] = got if len(got) > 1 else got[0]
        elif f.widget == "check":
            if raw in ("on", "true", "1", "yes"):
                out[f.name] = True
        elif f.widget == "tristate":
            if raw in ("true", "false"):
                out[f.name] = raw == "true"
        elif f.widget == "rows":
            rows = []
            for i in range(_rows_count(values, name)):
                row = spec_from_values(f.fields, values, f"{name}[{i}].")
                if row:
                    rows.append(row)
            if rows or f.required:
                out[f.name] = rows
        elif f.widget == "group":
            got = spec_from_values(f.fields, values, name + ".")
            if got:
                out[f.name] = got
        elif f.widget == "map":
            got = {}
            for i in range(_rows_count(values, name)):
                k = str(values.get(f"{name}[{i}].key", "") or "").strip()
                x = str(values.get(f"{name}[{i}].value", "") or "").strip()
                if k or x:
                    got[k] = _num(x) if f.fields[1].widget == "number" else x
            if got:
                out[f.name] = got
        elif f.widget == "quota":
            by = str(values.get(name + ".by", "") or "").strip()
            if by:
                vals = {}
                for i in range(_rows_count(values, name + ".values")):
                    k = str(values.get(f"{name}.values[{i}].key", "") or "").strip()
                    x = str(values.get(f"{name}.values[{i}].value", "") or "").strip()
                    if k and x:
                        vals[k] = _num(x)
                q: dict[str, Any] = {"by": by, "values": vals}
                d = str(values.get(name + ".default", "") or "").strip()
                if d:
                    q["default"] = _num(d)
                out[f.name] = q
            elif raw:
                out[f.name] = _num(raw)
        elif raw:
            out[f.name] = raw
    return out
