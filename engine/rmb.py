"""Amounts in 人民币大写 (中文大写金额), as pay sheets and vouchers write them.

The rules are those of the People's Bank of China's 《支付结算办法》 (附件一《正确填写票据和结算凭证
的基本规定》):

- digits 零壹贰叁肆伍陆柒捌玖, units 拾佰仟万亿, then 元角分;
- an amount that ends at 元 ends with 整 (so does one that ends at 角, which the rules allow);
  one with 分 does not;
- 拾 is always preceded by its digit: 10 is 壹拾元整, 110,000 is 壹拾壹万元整;
- one 零 stands for any run of zeros between two non-zero digits (1,000,005 -> 壹佰万零伍元整;
  10,010,000 -> 壹仟零壹万元整), also across 万 and 亿;
- a zero 角 before a non-zero 分 is written 零 (325.04 -> 叁佰贰拾伍元零肆分); a zero at the 元
  digit before a non-zero 角 may be left unwritten, and is (1,680.32 -> 壹仟陆佰捌拾元叁角贰分).

Amounts are Decimals already rounded to the fen; anything else is refused rather than rounded
again (money is rounded once, elsewhere).
"""
from __future__ import annotations

from decimal import Decimal

__all__ = ["rmb_upper"]

DIGITS = "零壹贰叁肆伍陆柒捌玖"
SMALL = ("", "拾", "佰", "仟")
GROUPS = ("", "万", "亿", "万亿")      # 万亿 = 10^12: beyond any pay sheet, but not wrong


def _group(n: int) -> str:
    """0 < n < 10000 as digits with 拾佰仟; inner zero runs as one 零, trailing zeros dropped."""
    out, zero = [], False
    for pos in range(3, -1, -1):
        d = n // 10 ** pos % 10
        if d == 0:
            zero = bool(out)      # a zero after a digit: write 零 if another digit follows
            continue
        if zero:
            out.append("零")
            zero = False
        out.append(DIGITS[d] + SMALL[pos])
    return "".join(out)


def _integer(n: int) -> str:
    groups = []
    while n:
        n, g = divmod(n, 10000)
        groups.append(g)
    if len(groups) > len(GROUPS):
        raise ValueError(f"金额过大：{n}")
    out, pending_zero = [], False
    for i in range(len(groups) - 1, -1, -1):
        g = groups[i]
        if g == 0:
            pending_zero = bool(out)
            continue
        # a zero is written where zeros separate two digits: a gap group, or a group below 1000
        if out and (pending_zero or g < 1000):
            out.append("零")
        out.append(_group(g) + GROUPS[i])
        pending_zero = False
    return "".join(out)


def rmb_upper(amount: Decimal | str | int) -> str:
    """Decimal('37609.00') -> '叁万柒仟陆佰零玖元整'; Decimal('0.05') -> '伍分'; 0 -> '零元整'."""
    d = Decimal(str(amount))
    if not d.is_finite():
        raise ValueError(f"不是金额：{amount}")
    if d != d.quantize(Decimal("0.01")):
        raise ValueError(f"金额须已精确到分：{amount}")
    sign = "负" if d < 0 else ""
    fen_total = int(abs(d) * 100)
    yuan, rest = divmod(fen_total, 100)
    jiao, fen = divmod(rest, 10)
    if fen_total == 0:
        return "零元整"
    text = _integer(yuan) + "元" if yuan else ""
    if jiao:
        text += DIGITS[jiao] + "角"
    elif fen and yuan:
        text += "零"
    if fen:
        text += DIGITS[fen] + "分"
    else:
        text += "整"
    return sign + text
