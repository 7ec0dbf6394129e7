"""The office's order (engine/ordering.py): the register's order or the settings', grids in natural order."""
from __future__ import annotations

from engine.ordering import OfficeOrder, natural_key


def w(wid, town, community, grid):
    return {"worker_id": wid, "town": town, "community": community, "grid": grid}


# a register as an office keeps it: its own town and community order, not code-point order
REGISTER = [w("W3", "鹤山镇", "鹤鸣社区", "1-1-10"), w("W1", "鹤山镇", "鹤鸣社区", "1-1-2"),
            w("W2", "鹤山镇", "凤凰一", "1-2-1"), w("W5", "鹤山镇", "凤凰二", "1-3-1"),
            w("W4", "鹤山镇", "凤凰三", "1-4-1"), w("W9", "凤凰街道", "西村", "2-1-1")]


def test_grid_ids_in_natural_order():
    assert sorted(["1-10", "1-2", "1-1", "10-1", "2-1"], key=natural_key) == ["1-1", "1-2", "1-10", "2-1", "10-1"]
    assert sorted(["W10", "W9", "W100"], key=natural_key) == ["W9", "W10", "W100"]
    assert sorted(["A-2", "2", "B"], key=natural_key) == ["2", "A-2", "B"]   # numbers and text never compared


def test_the_registers_order_of_towns_and_communities():
    # code-point order would be 凤凰街道 < 鹤山镇 and 凤凰三 < 凤凰二 < 凤凰一 < 鹤鸣社区
    order = OfficeOrder(REGISTER)
    got = [(x["town"], x["community"], x["grid"]) for x in order.sorted(reversed(REGISTER))]
    assert got == [("鹤山镇", "鹤鸣社区", "1-1-2"), ("鹤山镇", "鹤鸣社区", "1-1-10"), ("鹤山镇", "凤凰一", "1-2-1"),
                   ("鹤山镇", "凤凰二", "1-3-1"), ("鹤山镇", "凤凰三", "1-4-1"), ("凤凰街道", "西村", "2-1-1")]


def test_the_settings_order_comes_first_then_the_register():
    order = OfficeOrder(REGISTER, towns=["凤凰街道"], communities=["凤凰三", "凤凰一"])
    got = [x["community"] for x in order.sorted(REGISTER)]
    assert got == ["西村", "凤凰三", "凤凰一", "鹤鸣社区", "鹤鸣社区", "凤凰二"]
    assert order.sort_keys({"鹤山镇", "凤凰街道", "新镇"}) == ["凤凰街道", "鹤山镇", "新镇"]   # unknown last


def test_sorted_is_the_order_of_worker_key():
    """OfficeOrder.sorted uses a flatter key for speed (ranks of communities, the id's natural key
    only for workers outside the register): the order must be the one worker_key gives, for
    workers of the register, workers not in it, places the settings name and places they do not."""
    from hypothesis import given, settings, strategies as st

    place = st.sampled_from(["城关镇", "凤凰镇", "", "1镇", "10镇"])
    worker = st.fixed_dictionaries({"worker_id": st.sampled_from(["W1", "W2", "W10", "W9", "X", "", "W01"]),
                                    "town": place, "community": st.sampled_from(["一社区", "二社区", "", "3村", "12村"]),
                                    "grid": st.sampled_from(["1-2", "1-10", "2", "", "A1"])})

    @settings(max_examples=300, deadline=None)
    @given(st.lists(worker, max_size=25), st.lists(worker, max_size=25),
           st.lists(place, max_size=2), st.lists(st.sampled_from(["二社区", "12村"]), max_size=2))
    def check(register, others, towns, communities):
        order = OfficeOrder(register, towns=towns, communities=communities)
        mixed = register + others
        assert order.sorted(mixed) == sorted(mixed, key=order.worker_key)

    check()
