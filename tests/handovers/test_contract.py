import pytest
from django.core.exceptions import ValidationError
from django.template import Context, Template

from handoff.core.errors import Conflict
from handoff.handovers import services
from handoff.handovers.contract import clean_metrics, clean_terms, submission_problems
from handoff.handovers.markdown import render_markdown
from handoff.handovers.models import ClaimedMetric, Revision
from tests.factories import ready_draft


def terms_error(terms):
    with pytest.raises(ValidationError) as exc:
        clean_terms(terms)
    return exc.value.message_dict


def metrics_error(task_type, metrics):
    with pytest.raises(ValidationError) as exc:
        clean_metrics(task_type, metrics)
    return exc.value


def test_sensible_terms_are_normalised():
    cleaned = clean_terms(
        {
            "task_type": "regression",
            "framework": "pytorch",
            "framework_version": " 2.4 ",
            "latency_p95_ms": "12.5",
            "latency_batch_size": "8",
            "peak_memory_mb": 300,
            "parameter_count": 1e6,
            "validation_row_count": 5000,
            "fairness_slice_column": "region",
            "fairness_max_gap": 0.5,
            "metric_tolerance": None,
            "intended_use": "**Scoring**",
        }
    )
    assert cleaned["latency_p95_ms"] == 12.5 and cleaned["latency_batch_size"] == 8
    assert cleaned["parameter_count"] == 1_000_000 and cleaned["framework_version"] == "2.4"
    assert cleaned["metric_tolerance"] == 0.005


@pytest.mark.parametrize(
    ("terms", "field", "words"),
    [
        ({"latency_p95_ms": -5}, "latency_p95_ms", "greater than 0"),
        ({"latency_p95_ms": 0}, "latency_p95_ms", "greater than 0"),
        ({"latency_p95_ms": "fast"}, "latency_p95_ms", "must be a number"),
        ({"latency_p95_ms": float("nan")}, "latency_p95_ms", "finite"),
        ({"peak_memory_mb": -1}, "peak_memory_mb", "greater than 0"),
        ({"parameter_count": 0}, "parameter_count", "at least 1"),
        ({"parameter_count": 10.5}, "parameter_count", "whole number"),
        ({"latency_batch_size": 0}, "latency_batch_size", "at least 1"),
        ({"validation_row_count": -10}, "validation_row_count", "at least 1"),
        ({"metric_tolerance": -0.1}, "metric_tolerance", "cannot be negative"),
        ({"metric_tolerance": 5}, "metric_tolerance", "would accept anything"),
        (
            {"fairness_max_gap": -0.2, "fairness_slice_column": "region"},
            "fairness_max_gap",
            "cannot be negative",
        ),
        ({"fairness_metric": "bleu"}, "fairness_metric", "not a fairness metric"),
        ({"positive_label": "x" * 65}, "positive_label", "too long"),
        ({"task_type": "clustering"}, "task_type", "not a task type"),
        ({"framework": "caffe"}, "framework", "not a framework"),
        ({"framework_version": "x" * 40}, "framework_version", "too long"),
        ({"latency_p95_ms": True}, "latency_p95_ms", "must be a number"),
        ({"shoe_size": 42}, "shoe_size", "not a contract term"),
    ],
)
def test_nonsense_terms_get_a_message_on_the_field(terms, field, words):
    errors = terms_error(terms)
    assert field in errors
    assert words in " ".join(errors[field])


@pytest.mark.parametrize(
    ("terms", "words"),
    [
        ({"fairness_max_gap": 0.1}, "Name the slice column of the labels file that the fairness gap of 0.1"),
        ({"fairness_slice_column": "region"}, "Give the largest allowed gap between the slices of 'region'."),
        ({"task_type": "binary_classification", "fairness_slice_column": "region", "fairness_max_gap": 0.1,
          "fairness_metric": "mae"}, "The fairness metric MAE does not fit a binary classification task"),
        ({"task_type": "binary_classification", "fairness_slice_column": "region", "fairness_max_gap": 1.5},
         "A fairness gap of 1.5 between Accuracy figures (which lie between 0 and 1) checks nothing"),
        ({"task_type": "regression", "fairness_slice_column": "region", "fairness_max_gap": 2,
          "fairness_metric": "r2"}, None),
        ({"task_type": "regression", "fairness_slice_column": "region", "fairness_max_gap": 2.5}, None),
        ({"task_type": "binary_classification", "fairness_slice_column": "region", "fairness_max_gap": 0.05,
          "fairness_metric": "f1"}, None),
        ({"task_type": "binary_classification"}, None),
    ],
)
def test_the_fairness_terms_must_agree_when_submitted_not_while_drafted(terms, words):
    assert clean_terms(terms)  # each term is fine on its own: a draft may hold them half written
    problems = submission_problems(terms)
    if words is None:
        assert problems == []
    else:
        [problem] = problems
        assert problem.startswith(words)


@pytest.mark.parametrize(
    ("task_type", "claim", "field", "words"),
    [
        (
            "binary_classification",
            {"metric": "accuracy", "claimed_value": 1.7},
            "claimed_value",
            "between 0 and 1",
        ),
        (
            "binary_classification",
            {"metric": "roc_auc", "claimed_value": -0.1},
            "claimed_value",
            "between 0 and 1",
        ),
        ("regression", {"metric": "f1", "claimed_value": 0.8}, "metric", "does not fit a regression task"),
        ("multiclass_classification", {"metric": "rmse", "claimed_value": 0.8}, "metric", "does not fit"),
        ("regression", {"metric": "mae", "claimed_value": -2}, "claimed_value", "cannot be negative"),
        ("regression", {"metric": "r2", "claimed_value": 1.5}, "claimed_value", "at most 1"),
        (
            "binary_classification",
            {"metric": "accuracy", "claimed_value": 0.9, "minimum": 0.95, "maximum": 0.9},
            "minimum",
            "above the maximum",
        ),
        (
            "binary_classification",
            {"metric": "accuracy", "claimed_value": 0.8, "minimum": 0.85},
            "minimum",
            "below its own minimum",
        ),
        (
            "regression",
            {"metric": "rmse", "claimed_value": 3, "maximum": 2},
            "maximum",
            "above its own maximum",
        ),
        ("binary_classification", {"metric": "accuracy"}, "claimed_value", "give the claimed value"),
        ("binary_classification", {"metric": "bleu", "claimed_value": 0.3}, "metric", "not a metric"),
        ("", {"metric": "accuracy", "claimed_value": 0.9}, "metric", "choose a task type"),
        (
            "binary_classification",
            {"metric": "accuracy", "claimed_value": "high"},
            "claimed_value",
            "must be a number",
        ),
    ],
)
def test_nonsense_claims_get_a_message_naming_the_metric(task_type, claim, field, words):
    error = metrics_error(task_type, [claim])
    [detail] = error.error_dict["metrics"]
    assert words in detail.messages[0]
    assert detail.params == {"index": 0, "field": field}


def test_a_metric_claimed_twice_is_refused():
    error = metrics_error(
        "regression", [{"metric": "mae", "claimed_value": 1}, {"metric": "mae", "claimed_value": 2}]
    )
    assert "claimed twice" in error.message_dict["metrics"][0]


def test_sensible_claims_pass():
    cleaned = clean_metrics(
        "regression",
        [{"metric": "r2", "claimed_value": "-0.2"}, {"metric": "rmse", "claimed_value": 3, "maximum": 3.5}],
    )
    assert cleaned == [
        {"metric": "r2", "claimed_value": -0.2, "minimum": None, "maximum": None},
        {"metric": "rmse", "claimed_value": 3.0, "minimum": None, "maximum": 3.5},
    ]


@pytest.mark.parametrize(
    ("terms", "metrics", "field"),
    [
        ({"latency_p95_ms": -1}, None, "latency_p95_ms"),
        ({"metric_tolerance": -0.5}, None, "metric_tolerance"),
        ({}, [{"metric": "accuracy", "claimed_value": 1.7}], "metrics"),
    ],
)
def test_services_store_nothing_when_the_contract_is_nonsense(draft, scientist, terms, metrics, field):
    _, revision = draft
    before = Revision.objects.filter(pk=revision.pk).values().get()
    claims = list(ClaimedMetric.objects.filter(revision=revision).values())
    with pytest.raises(ValidationError) as exc:
        services.update_terms(scientist, revision, terms=terms, metrics=metrics)
    assert field in exc.value.message_dict
    assert Revision.objects.filter(pk=revision.pk).values().get() == before
    assert list(ClaimedMetric.objects.filter(revision=revision).values()) == claims


def test_a_draft_may_hold_claims_that_do_not_fit_yet_and_submitting_names_each(project, scientist):
    """A draft is written a term at a time (the claims before the task type that
    fits them); submitting refuses what still disagrees, claim by claim."""
    handover, revision = ready_draft(project=project, owner=scientist)
    services.update_terms(scientist, revision, terms={"task_type": "regression"}, metrics=[
        {"metric": "f1", "claimed_value": 0.8}, {"metric": "mae", "claimed_value": 3, "maximum": 2}])
    assert list(revision.claimed_metrics.values_list("metric", flat=True)) == ["f1", "mae"]

    with pytest.raises(Conflict) as exc:
        services.submit_revision(scientist, revision)

    assert exc.value.message == ("F1 does not fit a regression task; claim one of MAE, RMSE, R². "
                                 "MAE: the claimed value 3 is above its own maximum 2.")
    handover.refresh_from_db()
    assert handover.state == "draft"
    revision.refresh_from_db()
    assert revision.submitted_at is None


# --- Markdown ----------------------------------------------------------------------------------------------


def test_markdown_is_rendered_and_a_script_never_runs():
    html = render_markdown(
        "## Intended use\n\n*Scoring* churn.\n\n<script>alert('x')</script>\n\n"
        "[click](javascript:alert(1)) <img src=x onerror=alert(1)> [docs](https://example.org)"
    )
    assert "<h2>Intended use</h2>" in html and "<em>Scoring</em>" in html
    assert "<script" not in html and "alert('x')" not in html
    assert "javascript:" not in html and "onerror" not in html and "<img" not in html
    assert 'href="https://example.org"' in html


def test_markdown_template_filter():
    out = Template("{% load handover_tags %}{{ text|markdown }}").render(
        Context({"text": "**bold** <script>evil()</script>"})
    )
    assert "<strong>bold</strong>" in out and "<script" not in out
    assert Template("{% load handover_tags %}[{{ text|markdown }}]").render(Context({"text": None})) == "[]"
