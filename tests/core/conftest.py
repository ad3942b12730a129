import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Give every schemathesis item its own node id,
    ``test_api_fuzz.py::test_…[POST /api/v1/handovers/]``.

    schemathesis names each item after its operation, but on pytest 9.2 the
    node id comes from the bare function name, so all of them shared one id
    and pytest-xdist ran only one. ``tryfirst``: before ``-k`` and
    ``--deselect`` read the ids."""
    for item in items:
        label = getattr(item, "operation_label", None)
        if label and not item.nodeid.endswith(f"[{label}]"):
            item._id = item._id.with_params(label)
