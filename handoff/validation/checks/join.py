"""Joining predictions with labels by id, with numpy only.

Rows whose id appears exactly once in each file are matched; ids that appear
in only one file, or more than once in either, are counted with a few
examples and left out of the metrics. Integer ids in a compact range are
joined by direct addressing (a counting array as long as the range); sparse
integer ids by sorting; text ids are first given integer codes by pyarrow.
When one file's ids are integers and the other's text, the text ids written as
integers are compared as the integers the reader would have made of them
(``0001`` is ``1``), as they are when both files hold numbers.
"""

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .tables import Table

EXAMPLES = 5
INTEGER_TEXT = r"^-?[0-9]{1,18}$"  # surely an int64 when read as a number


@dataclass
class IdSet:
    """Some ids that did not match: how many ids, over how many rows, and a few of them."""

    ids: int = 0
    rows: int = 0
    examples: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"ids": self.ids, "rows": self.rows, "examples": self.examples}


@dataclass
class Join:
    chosen_pred_rows: np.ndarray | None  # matched rows of the predictions, in file order; None: all
    label_rows: np.ndarray  # the matching rows of the labels file
    missing: IdSet  # in the labels, not in the predictions
    unknown: IdSet  # in the predictions, not in the labels
    duplicated_in_predictions: IdSet
    duplicated_in_labels: IdSet
    empty_in_predictions: int = 0
    empty_in_labels: int = 0

    @property
    def matched(self) -> int:
        return len(self.label_rows)

    @property
    def predictions_in_order(self) -> bool:
        """Every prediction row matched, in file order: its columns need no gathering."""
        return self.chosen_pred_rows is None

    @property
    def pred_rows(self) -> np.ndarray:
        return np.arange(self.matched) if self.chosen_pred_rows is None else self.chosen_pred_rows

    @property
    def clean(self) -> bool:
        return not (
            self.missing.ids
            or self.unknown.ids
            or self.duplicated_in_predictions.ids
            or self.duplicated_in_labels.ids
            or self.empty_in_predictions
            or self.empty_in_labels
        )


def _codes(predictions: Table, labels: Table) -> tuple[np.ndarray, np.ndarray, object]:
    """Both files' ids as int64, and a function that turns a code back into the id as written."""
    if predictions.text_ids is None and labels.text_ids is None:
        return predictions.int_ids, labels.int_ids, int

    mixed = predictions.text_ids is None or labels.text_ids is None

    def text(table: Table) -> pa.ChunkedArray:
        if table.text_ids is not None:
            # The other file's ids were read as numbers, which keeps no leading zeros.
            return _as_read_as_integers(table.text_ids) if mixed else table.text_ids
        return pa.chunked_array([pa.array(table.int_ids).cast(pa.string())], type=pa.string())

    p_text, l_text = text(predictions), text(labels)
    both = pa.chunked_array(p_text.chunks + l_text.chunks, type=pa.string())
    uniques = pc.unique(both)

    def encode(values: pa.ChunkedArray) -> np.ndarray:
        return pc.fill_null(pc.index_in(values, value_set=uniques), -1).to_numpy().astype(np.int64)

    return encode(p_text), encode(l_text), lambda code: uniques[int(code)].as_py()


def _as_read_as_integers(ids: pa.ChunkedArray) -> pa.ChunkedArray:
    """Text ids with those written as integers (``0001``, `` 7``) as integers write: ``1``, ``7``."""
    trimmed = pc.utf8_trim_whitespace(ids)
    numeric = pc.match_substring_regex(trimmed, INTEGER_TEXT)
    integers = pc.if_else(numeric, trimmed, pa.scalar(None, pa.string())).cast(pa.int64())
    return pc.if_else(numeric, integers.cast(pa.string()), ids)


def _valid(ids: np.ndarray, null_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Ids without the rows that have none, and those ids' row numbers (None: every row)."""
    if not len(null_rows):
        return ids, None
    keep = np.ones(len(ids), dtype=bool)
    keep[null_rows] = False
    rows = np.flatnonzero(keep)
    return ids[rows], rows


def join(predictions: Table, labels: Table) -> Join:
    p_all, l_all, decode = _codes(predictions, labels)
    p, p_rows = _valid(p_all, predictions.null_id_rows)
    lab, l_rows = _valid(l_all, labels.null_id_rows)
    if len(p) == 0 or len(lab) == 0:
        empty = np.empty(0, dtype=np.int64)
        result = Join(empty, empty, *_lonely(p, lab, decode))
    else:
        lo = int(min(p.min(), lab.min()))
        span = int(max(p.max(), lab.max())) - lo + 1
        dense = span <= 2 * (len(p) + len(lab)) + 1024
        result = (_dense if dense else _sparse)(p, lab, lo, span, decode)
    if p_rows is not None:
        result.chosen_pred_rows = p_rows[result.pred_rows]
    if l_rows is not None:
        result.label_rows = l_rows[result.label_rows]
    result.empty_in_predictions = len(predictions.null_id_rows)
    result.empty_in_labels = len(labels.null_id_rows)
    return result


def _lonely(p: np.ndarray, lab: np.ndarray, decode) -> tuple[IdSet, IdSet, IdSet, IdSet]:
    """When one side has no ids at all: everything on the other side is unmatched."""
    up, cp = np.unique(p, return_counts=True)
    ul, cl = np.unique(lab, return_counts=True)
    return (
        _set(ul, cl, decode),
        _set(up, cp, decode),
        _set(up[cp > 1], cp[cp > 1], decode),
        _set(ul[cl > 1], cl[cl > 1], decode),
    )


def _set(ids: np.ndarray, counts: np.ndarray, decode) -> IdSet:
    return IdSet(int(len(ids)), int(counts.sum()), [decode(v) for v in ids[:EXAMPLES]])


def _dense(p, lab, lo, span, decode) -> Join:
    """Direct addressing: one int32 slot per possible id and file, holding the row that has it
    (-1: no row, -2: more than one). Fresh memory is costly, so nothing here is int64 per row."""
    p_off = p - lo if lo else p
    l_off = lab - lo if lo else lab
    rows = np.arange(max(len(p), len(lab)), dtype=np.int32)

    def slots(offsets: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row of each id, the duplicated ids' offsets, how many rows they have)."""
        slot = np.full(span, -1, dtype=np.int32)
        slot[offsets] = rows  # with duplicates, the last row wins
        if np.count_nonzero(slot != -1) == len(offsets):
            return slot, np.empty(0, np.int64), np.empty(0, np.int64)
        lost = np.flatnonzero(slot[offsets] != rows)
        if not len(lost):
            return slot, np.empty(0, np.int64), np.empty(0, np.int64)
        duplicated, extra = np.unique(offsets[lost], return_counts=True)
        slot[duplicated] = -2
        return slot, duplicated, extra + 1

    slot_p, dup_p, dup_p_rows = slots(p_off, rows[: len(p_off)])
    slot_l, dup_l, dup_l_rows = slots(l_off, rows[: len(l_off)])
    del rows

    label_of_pred = slot_l[p_off]  # -1: unknown to the labels, -2: duplicated there
    matched = label_of_pred >= 0
    if len(dup_p):
        matched &= slot_p[p_off] >= 0
    unknown_rows = int(np.count_nonzero(label_of_pred == -1))
    if np.count_nonzero(matched) == len(p_off):  # every prediction row matched: keep file order as is
        pred_rows, label_rows = None, label_of_pred
    else:
        pred_rows = np.flatnonzero(matched)
        label_rows = label_of_pred[pred_rows]
    del label_of_pred, matched

    def examples(offsets) -> list:
        return [decode(v + lo) for v in offsets[:EXAMPLES]]

    unknown_ids = np.flatnonzero((slot_p != -1) & (slot_l == -1))
    missing_ids = np.flatnonzero((slot_l != -1) & (slot_p == -1))
    missing_rows = int(np.count_nonzero(np.isin(l_off, missing_ids))) if len(dup_l) else len(missing_ids)
    return Join(
        chosen_pred_rows=pred_rows,
        label_rows=label_rows,
        missing=IdSet(len(missing_ids), missing_rows, examples(missing_ids)),
        unknown=IdSet(len(unknown_ids), unknown_rows, examples(unknown_ids)),
        duplicated_in_predictions=IdSet(len(dup_p), int(dup_p_rows.sum()), examples(dup_p)),
        duplicated_in_labels=IdSet(len(dup_l), int(dup_l_rows.sum()), examples(dup_l)),
    )


def _sparse(p, lab, lo, span, decode) -> Join:
    p_order = np.argsort(p, kind="stable")
    l_order = np.argsort(lab, kind="stable")
    p_sorted, l_sorted = p[p_order], lab[l_order]
    up, p_first, cp = np.unique(p_sorted, return_index=True, return_counts=True)
    ul, l_first, cl = np.unique(l_sorted, return_index=True, return_counts=True)

    at = np.searchsorted(ul, up)
    clipped = np.minimum(at, len(ul) - 1)
    p_in_l = ul[clipped] == up
    cl_of_up = np.where(p_in_l, cl[clipped], 0)
    back = np.searchsorted(up, ul)
    l_in_p = up[np.minimum(back, len(up) - 1)] == ul

    once = (cp == 1) & (cl_of_up == 1)
    pred_rows = p_order[p_first[once]]
    label_rows = l_order[l_first[clipped[once]]]
    order = np.argsort(pred_rows, kind="stable")
    return Join(
        chosen_pred_rows=pred_rows[order].astype(np.int64),
        label_rows=label_rows[order].astype(np.int64),
        missing=_set(ul[~l_in_p], cl[~l_in_p], decode),
        unknown=_set(up[~p_in_l], cp[~p_in_l], decode),
        duplicated_in_predictions=_set(up[cp > 1], cp[cp > 1], decode),
        duplicated_in_labels=_set(ul[cl > 1], cl[cl > 1], decode),
    )
