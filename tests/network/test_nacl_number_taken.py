"""A NACL rule number already in use is refused with the rule that holds it and free numbers beside it; the free
numbers the hint names really are free (adding the rule with one of them works)."""

from __future__ import annotations

import re

import pytest

import tierlab as tl
from tierlab.errors import RuleError


@pytest.mark.parametrize("nacl, direction, number", [("nacl-public", "inbound", 100), ("nacl-public", "inbound", 105),
                                                     ("nacl-private-db", "outbound", 100)])
def test_a_taken_number_names_its_holder_and_free_numbers_that_work(nacl, direction, number):
    topo = tl.load("seed")
    holder = next(r for r in topo.nacl(nacl).rules if r.direction == direction and r.number == number)
    with pytest.raises(RuleError) as info:
        topo.add_nacl_rule(nacl, direction, number=number, action="allow", ports=80, cidr="10.0.0.0/16")
    assert f"already has {direction} rule #{number} ({holder.id})" in info.value.message
    free = [int(n) for n in re.findall(r"such as #(\d+)(?: or #(\d+))?", info.value.hint)[0] if n]
    assert free and number not in free
    for n in free:
        added = topo.add_nacl_rule(nacl, direction, number=n, action="allow", ports=80, cidr="10.0.0.0/16")
        assert any(r.number == n for r in added.nacl(nacl).rules if r.direction == direction)


def test_renumbering_onto_a_taken_number_names_the_holder():
    topo = tl.load("seed")
    with pytest.raises(RuleError, match=r"#100 \(nacl-public-in-100\)") as info:
        topo.change_rule("nacl-public-in-110", number=100)
    assert "#110" not in info.value.hint  # the rule being moved frees its own number
