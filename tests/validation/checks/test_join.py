"""Joining by id: matched rows, and missing, unknown, duplicated and empty ids with examples."""

import numpy as np
import pyarrow as pa
import pytest

from handoff.validation.checks.join import join
from handoff.validation.checks.tables import Table


def _int_table(ids, null_rows=()) -> Table:
    return Table(
        name="t",
        rows=len(ids),
        int_ids=np.asarray(ids, dtype=np.int64),
        null_id_rows=np.asarray(null_rows, np.int64),
    )


def _text_table(ids) -> Table:
    return Table(name="t", rows=len(ids), text_ids=pa.chunked_array([pa.array(ids, pa.string())]))


def _pairs(result, p_ids, l_ids):
    return sorted(
        zip(np.asarray(p_ids)[result.pred_rows].tolist(), np.asarray(l_ids)[result.label_rows].tolist())
    )


@pytest.mark.parametrize("offset", [0, 10**12], ids=["dense", "sparse"])
def test_shuffled_files_match_row_for_row(offset):
    rng = np.random.default_rng(3)
    ids = np.arange(1000) * (1 if offset == 0 else 7919) + offset
    p_ids, l_ids = rng.permutation(ids), rng.permutation(ids)
    result = join(_int_table(p_ids), _int_table(l_ids))
    assert result.clean and result.matched == 1000
    assert all(p == lab for p, lab in _pairs(result, p_ids, l_ids))
    assert list(result.pred_rows) == sorted(result.pred_rows)  # predictions' file order


@pytest.mark.parametrize("scale", [1, 10**9], ids=["dense", "sparse"])
def test_missing_unknown_and_duplicated_ids_are_counted_with_examples(scale):
    p_ids = np.array([1, 2, 3, 3, 4, 9, 10, 11, 12, 13, 14, 15]) * scale
    l_ids = np.array([1, 2, 3, 4, 4, 4, 5, 6, 7, 8]) * scale
    result = join(_int_table(p_ids), _int_table(l_ids))
    assert not result.clean
    assert result.matched == 2  # 1 and 2 appear once in each
    assert result.missing.as_dict() == {
        "ids": 4,
        "rows": 4,
        "examples": [5 * scale, 6 * scale, 7 * scale, 8 * scale],
    }
    assert result.unknown.ids == 7 and result.unknown.examples == [s * scale for s in (9, 10, 11, 12, 13)]
    assert result.duplicated_in_predictions.as_dict() == {"ids": 1, "rows": 2, "examples": [3 * scale]}
    assert result.duplicated_in_labels.as_dict() == {"ids": 1, "rows": 3, "examples": [4 * scale]}


def test_text_ids_are_joined_and_shown_as_written():
    result = join(_text_table(["a-1", "b-2", "c-3", "x"]), _text_table(["c-3", "a-1", "b-2", "b-2", "z"]))
    assert result.matched == 2
    assert result.unknown.examples == ["x"] and result.missing.examples == ["z"]
    assert result.duplicated_in_labels.examples == ["b-2"]


def test_integer_and_text_ids_meet_as_text():
    result = join(_int_table([1, 2, 3]), _text_table(["3", "2", "1"]))
    assert result.clean and result.matched == 3


def test_rows_without_id_are_left_out_and_counted():
    predictions = _int_table([1, 0, 2], null_rows=[1])  # the reader fills an empty id with 0
    result = join(predictions, _int_table([2, 1]))
    assert result.matched == 2 and result.empty_in_predictions == 1 and not result.clean
    assert sorted(result.pred_rows.tolist()) == [0, 2]


def test_no_common_id_at_all():
    result = join(_int_table([1, 2]), _int_table([3, 4]))
    assert result.matched == 0 and result.missing.ids == 2 and result.unknown.ids == 2


def test_zero_padded_text_ids_meet_the_integers_they_were_read_as():
    """A file of numeric ids is read as integers (0001 is 1); the other file, text because of
    one stray id, keeps 0001 as written: they are the same id."""
    result = join(_text_table(["0001", "0002", "x-1"]), _int_table([2, 1]))
    assert result.matched == 2 and result.missing.ids == 0
    assert result.unknown.examples == ["x-1"]
    assert _pairs(result, ["0001", "0002", "x-1"], [2, 1]) == [("0001", 1), ("0002", 2)]
