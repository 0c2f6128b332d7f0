"""The flow-log exercise check: the learner names the blocking rule from the records alone."""

import pytest

from tierlab.course import exercises as ex
from tierlab.errors import CheckFailed

WHATIF = {"switch_off": ["nacl-private-db-out-100"]}


def test_the_switched_off_rule_or_the_deciding_star_rule_pass():
    assert ex.check_flowlog_rule("nacl-private-db-out-100", WHATIF)
    assert ex.check_flowlog_rule("nacl-private-db-out-star", WHATIF)


def test_a_wrong_rule_says_where_the_rejects_are():
    with pytest.raises(CheckFailed) as err:
        ex.check_flowlog_rule("database-sg-in-5432", WHATIF)
    assert "rds-primary" in err.value.hint and "egress" in err.value.hint


def test_nothing_blocked_is_refused_and_it_is_a_value_check():
    with pytest.raises(CheckFailed):
        ex.check_flowlog_rule("web-sg-in-3000", {})
    assert ex.VALUE_CHECKS["flowlog_rule"] is ex.check_flowlog_rule
