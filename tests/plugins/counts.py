"""Every collected test runs, or the run fails.

pytest-xdist schedules tests by node id: two tests that share an id (a
generated parametrisation without ids, say) collapse into one and the other
silently never runs. This plugin counts the tests collected and the tests that
ran (each test that runs reports a teardown, whatever its outcome), prints
both at the end of the run, and fails the run when they differ, naming the
ids that were collected twice and the ones that never ran.

Loaded with ``-p tests.plugins.counts`` (pyproject.toml) so it is active in
the xdist controller, which is where both numbers are known.
"""

from collections import Counter

import pytest


class RunCounts:
    def __init__(self, config):
        self.config = config
        self.collected = None
        self.ran = Counter()
        self.problem = None

    # Without xdist the session knows its own items; under xdist the
    # controller learns them from each worker (they all collect the same list).
    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session):
        if self.collected is None and not _is_xdist_controller(self.config):
            self.collected = [item.nodeid for item in session.items]

    def pytest_xdist_node_collection_finished(self, node, ids):
        if self.collected is None:
            self.collected = list(ids)

    def pytest_runtest_logreport(self, report):
        if report.when == "teardown":
            self.ran[report.nodeid] += 1

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session, exitstatus):
        # Interrupted, or stopped on purpose (-x, --maxfail): not every test was meant to run.
        if self.collected is None or exitstatus == pytest.ExitCode.INTERRUPTED or session.shouldstop:
            return
        collected, ran = len(self.collected), sum(self.ran.values())
        if collected == ran:
            return
        twice = sorted(nodeid for nodeid, n in Counter(self.collected).items() if n > 1)
        never = sorted(set(self.collected) - set(self.ran))
        lines = [f"{collected} tests were collected but {ran} ran."]
        if twice:
            lines.append(f"{len(twice)} test ids are shared by several tests (only one of each runs "
                         "under xdist); give each its own id:")
            lines += [f"  {nodeid}" for nodeid in twice[:20]]
        if never:
            lines.append(f"{len(never)} collected tests never ran:")
            lines += [f"  {nodeid}" for nodeid in never[:20]]
        self.problem = "\n".join(lines)
        if session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter):
        if self.collected is None:
            return
        collected, ran = len(self.collected), sum(self.ran.values())
        if self.problem:
            terminalreporter.write_sep("=", "collected and ran differ", red=True, bold=True)
            terminalreporter.write_line(self.problem)
        terminalreporter.write_line(f"tests collected: {collected}, tests ran: {ran}")


def _is_xdist_controller(config):
    return config.pluginmanager.hasplugin("dsession")


def _is_xdist_worker(config):
    return hasattr(config, "workerinput")


def pytest_configure(config):
    # Workers report to the controller; only one process counts.
    if not _is_xdist_worker(config) and not config.option.collectonly:
        config.pluginmanager.register(RunCounts(config), "handoff-run-counts")
