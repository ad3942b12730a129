"""Comparing a figure with its claim and limits, and the sentence that says how it went."""

from handoff.validation.checks import ERROR, FAIL, PASS, SKIPPED
from handoff.validation.checks.outcomes import figure, guard, judge


def test_the_edge_of_the_tolerance_passes_despite_float_noise():
    outcome = judge("metric.accuracy", "accuracy", 0.965, claimed=0.97, tolerance=0.005)
    assert outcome.status == PASS


def test_outside_the_tolerance_fails_with_both_numbers():
    outcome = judge("metric.accuracy", "accuracy", 0.959, claimed=0.97, tolerance=0.005, basis="on 171 rows")
    assert outcome.status == FAIL
    assert (
        outcome.message
        == "accuracy claimed 0.970, measured 0.959 on 171 rows: outside the tolerance of 0.005"
    )


def test_a_small_tolerance_shows_enough_decimals():
    outcome = judge("metric.f1", "f1", 0.95012, claimed=0.9504, tolerance=0.0001)
    assert "claimed 0.9504, measured 0.9501" in outcome.message


def test_both_tolerance_and_limit_can_fail():
    outcome = judge("metric.log_loss", "log_loss", 0.4, claimed=0.2, tolerance=0.005, maximum=0.3)
    assert outcome.status == FAIL and outcome.limit == 0.3
    assert outcome.message.endswith("outside the tolerance of 0.005 and above the maximum of 0.300")


def test_nothing_to_compare_is_skipped_with_the_figure_kept():
    outcome = judge("runtime.latency_p95_ms", "p95 latency", 3.2, claimed=None, tolerance=None, unit="ms")
    assert outcome.status == SKIPPED and outcome.measured == 3.2


def test_figures_read_as_a_person_writes_them():
    assert figure(0.97) == "0.970"
    assert figure(12345) == "12,345"
    assert figure(12345.0) == "12,345"
    assert figure(0.00001234) == "1.2e-05"


def test_guard_turns_a_bug_into_an_error_outcome():
    def broken():
        raise KeyError("oops")

    outcome = guard("metric.accuracy", broken)
    assert outcome.status == ERROR and "KeyError" in outcome.message and outcome.key == "metric.accuracy"


def test_guard_lets_a_task_time_limit_through():
    class SoftTimeLimitExceeded(Exception):
        pass

    def stopped():
        raise SoftTimeLimitExceeded()

    try:
        guard("integrity", stopped)
    except SoftTimeLimitExceeded:
        pass
    else:
        raise AssertionError("the time limit was swallowed")
