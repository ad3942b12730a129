"""Reading predictions and labels in batches: CSV and Parquet, odd headers, bad values."""

import gzip

import numpy as np
import pytest

from handoff.validation.checks import tables
from handoff.validation.checks.tables import ClassBook, Column, FileProblem, canonical, header_of, read_table

from .conftest import artifact, write_table


def _books():
    book = ClassBook()
    return {"label": book, "prediction": book, "slice": ClassBook()}


def _columns(header, *roles):
    kinds = {"id": "id", "label": "classes", "prediction": "classes", "score": "float", "slice": "slice"}
    return [
        Column(role, tables.find(header, role if role != "slice" else "group"), kinds[role]) for role in roles
    ]


def _read(path, *roles, books=None):
    art = artifact(path, "predictions")
    return read_table(art, _columns(header_of(art), *roles), books or _books())


def test_csv_with_bom_quoted_and_oddly_cased_header(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_bytes('\ufeff"ID"," Label ","group"\n1,cat,a\n2,dog,b\n3,cat,\n'.encode())
    art = artifact(path, "labels")
    header = header_of(art)
    assert tables.find(header, "id") == "ID" and tables.find(header, "label") == " Label "
    books = _books()
    table = read_table(art, _columns(header, "id", "label", "slice"), books)
    assert table.rows == 3 and table.int_ids.tolist() == [1, 2, 3]
    assert [books["label"].names[c] for c in table.arrays["label"]] == ["cat", "dog", "cat"]
    assert [books["slice"].names[c] for c in table.arrays["slice"]] == ["a", "b", "(empty)"]


def test_parquet_is_read_in_batches_with_its_own_types(tmp_path, monkeypatch):
    monkeypatch.setattr(tables, "PARQUET_BATCH_ROWS", 100)
    ids = np.arange(1000)
    path = write_table(
        tmp_path / "p.parquet", {"id": ids, "prediction": ids % 2, "score": np.linspace(0, 1, 1000)}
    )
    seen = []
    art = artifact(path, "predictions")
    progress = lambda rows, total: seen.append((rows, total))  # noqa: E731
    table = read_table(art, _columns(header_of(art), "id", "prediction", "score"), _books(), progress)
    assert table.rows == 1000 and len(seen) == 10 and seen[-1] == (1000, 1000)
    assert table.arrays["score"].dtype == np.float64 and table.arrays["score"][-1] == 1.0


def test_a_non_numeric_score_column_is_dropped_and_named(tmp_path, monkeypatch):
    monkeypatch.setattr(tables, "BLOCK_BYTES", 4096)
    rows = [f"{i},1,0.5" for i in range(2000)] + ["2000,1,high"] + [f"{i},0,0.25" for i in range(2001, 3000)]
    path = tmp_path / "predictions.csv"
    path.write_text("id,prediction,score\n" + "\n".join(rows) + "\n")
    table = _read(path, "id", "prediction", "score")
    assert table.rows == 3000 and "score" not in table.arrays
    assert "'score' column of predictions.csv is not numeric (it holds 'high')" in table.problems["score"]
    assert len(table.arrays["prediction"]) == 3000


def test_ids_that_turn_out_to_be_text_late_in_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(tables, "BLOCK_BYTES", 4096)
    rows = [f"{i},1" for i in range(3000)] + ["X-1,0"]
    path = tmp_path / "predictions.csv"
    path.write_text("id,prediction\n" + "\n".join(rows) + "\n")
    table = _read(path, "id", "prediction")
    assert table.int_ids is None and table.text_ids.to_pylist()[-2:] == ["2999", "X-1"]


def test_tsv_and_gzip_csv(tmp_path):
    tsv = tmp_path / "p.tsv"
    tsv.write_text("id\tprediction\n1\t0\n2\t1\n")
    assert _read(tsv, "id", "prediction").rows == 2
    gz = tmp_path / "p.csv.gz"
    gz.write_bytes(gzip.compress(b"id,prediction\n1,0\n2,1\n3,1\n"))
    assert _read(gz, "id", "prediction").rows == 3


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "is empty"), (b"\x00\x01garbage\xff" * 10, "cannot be read")],
    ids=["empty", "binary"],
)
def test_files_that_cannot_be_read_say_so(tmp_path, content, message):
    path = tmp_path / "labels.parquet"
    path.write_bytes(content)
    with pytest.raises(FileProblem, match=message):
        header_of(artifact(path, "labels"))


def test_an_empty_csv_is_a_file_problem(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_bytes(b"")
    with pytest.raises(FileProblem, match="labels.csv is empty"):
        header_of(artifact(path, "labels"))


def test_an_unknown_extension_is_refused(tmp_path):
    path = tmp_path / "labels.xlsx"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(FileProblem, match="neither CSV nor Parquet"):
        header_of(artifact(path, "labels"))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", "1"),
        ("1.0", "1"),
        (" 01 ", "1"),
        (1, "1"),
        (1.0, "1"),
        (True, "1"),
        ("yes", "yes"),
        ("", None),
        (0.5, "0.5"),
        ("1e3", "1e3"),
    ],
    ids=["text-1", "text-1.0", "padded", "int", "float", "bool", "word", "empty", "half", "exponent"],
)
def test_class_labels_are_compared_as_one_spelling(raw, expected):
    assert canonical(raw) == expected


def test_a_closed_class_book_records_strangers():
    book = ClassBook(["0", "1", "2"], closed=True)
    assert book.code("1") == 1 and book.code("7", "labels.csv") == -2
    assert book.strangers == {"7": "labels.csv"}
