"""人民币大写 (engine/rmb.py): the PBOC rules' own examples, hand-worked cases for every zero rule,
and a property: an independent reader of 大写 gets every amount back, and the text keeps the rules."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.rmb import rmb_upper

DIGITS = {ch: i for i, ch in enumerate("零壹贰叁肆伍陆柒捌玖")}
SMALL = {"拾": 10, "佰": 100, "仟": 1000}


def read_upper(text: str) -> Decimal:
    """An independent reader: 大写 back to an amount (section by section, 万 and 亿 as multipliers)."""
    sign = -1 if text.startswith("负") else 1
    text = text.removeprefix("负")
    m = re.fullmatch(r"(?:(.+)元)?(?:(.)角)?(?:零?(.)分)?(整)?", text)
    assert m, text
    whole, jiao, fen, _ = m.groups()
    total = section = digit = 0
    for ch in whole or "":
        if ch in DIGITS:
            digit = DIGITS[ch]
        elif ch in SMALL:
            section += digit * SMALL[ch]
            digit = 0
        elif ch == "万":
            total += (section + digit) * 10_000
            section = digit = 0
        elif ch == "亿":
            total = (total + section + digit) * 100_000_000
            section = digit = 0
        else:
            raise AssertionError(f"unexpected {ch!r} in {text}")
    total += section + digit
    cents = total * 100 + (DIGITS[jiao] * 10 if jiao else 0) + (DIGITS[fen] if fen else 0)
    return sign * Decimal(cents) / 100


@pytest.mark.parametrize("amount, text", [
    # the examples of 《正确填写票据和结算凭证的基本规定》 (one of the forms each allows)
    ("1680.32", "壹仟陆佰捌拾元叁角贰分"),
    ("107000.53", "壹拾万柒仟元伍角叁分"),
    ("1409.50", "壹仟肆佰零玖元伍角整"),
    ("6007.14", "陆仟零柒元壹角肆分"),
    ("325.04", "叁佰贰拾伍元零肆分"),
    # 拾 always after its digit
    ("10.00", "壹拾元整"), ("15.00", "壹拾伍元整"), ("110000.00", "壹拾壹万元整"), ("1100000.00", "壹佰壹拾万元整"),
    # one 零 for a run of zeros, also across 万 and 亿; none where the zeros end a section
    ("1010.00", "壹仟零壹拾元整"), ("1001.00", "壹仟零壹元整"), ("1000005.00", "壹佰万零伍元整"),
    ("10010000.00", "壹仟零壹万元整"), ("100010000.00", "壹亿零壹万元整"), ("100000005.00", "壹亿零伍元整"),
    ("100000000.00", "壹亿元整"), ("120000000.00", "壹亿贰仟万元整"), ("1000000000000.00", "壹万亿元整"),
    ("20300.00", "贰万零叁佰元整"), ("20030.00", "贰万零叁拾元整"),
    # the month's totals of the test fixtures and the demo town
    ("37609.00", "叁万柒仟陆佰零玖元整"), ("1960.00", "壹仟玖佰陆拾元整"), ("15400.00", "壹万伍仟肆佰元整"),
    ("1633.34", "壹仟陆佰叁拾叁元叁角肆分"),
    # 角 and 分 alone, zero, a negative amount
    ("0.05", "伍分"), ("0.50", "伍角整"), ("0.35", "叁角伍分"), ("0.00", "零元整"), ("0", "零元整"),
    ("1000000.05", "壹佰万元零伍分"), ("-5.00", "负伍元整"),
])
def test_hand_worked_amounts(amount, text):
    assert rmb_upper(Decimal(amount)) == text
    assert read_upper(text) == Decimal(amount)


@pytest.mark.parametrize("bad", ["1.005", "NaN", "Infinity", "12.3456"])
def test_amounts_not_in_fen_are_refused_not_rounded_again(bad):
    with pytest.raises(ValueError):
        rmb_upper(Decimal(bad))


@settings(max_examples=400, deadline=None)
@given(st.integers(min_value=0, max_value=99_999_999_999_999))
def test_every_amount_reads_back_and_keeps_the_rules(fen):
    amount = Decimal(fen) / 100
    text = rmb_upper(amount)
    assert read_upper(text) == amount
    assert "零零" not in text
    assert text == "零元整" or not re.search(r"零[元万亿拾佰仟角分整]", text), text   # no zero before a unit
    assert not re.search(r"(^|[^壹贰叁肆伍陆柒捌玖])拾", text), text       # 拾 after its digit
    assert text.endswith("整") == (fen % 10 == 0)                        # 分 ends without 整
    assert text == "零元整" or not text.startswith("零")
