"""Reading predictions and labels, CSV or Parquet, in batches into compact numpy arrays.

Only the columns a check needs are read. CSV is streamed with
``pyarrow.csv.open_csv`` and Parquet with ``ParquetFile.iter_batches``; each
batch becomes numpy arrays at once (ids as int64, class labels as small integer
codes, scores as float64, slice values as codes), so memory follows the
columns that matter, never Python objects per row.

Column names are matched without regard to case or surrounding spaces (a BOM
or quoted header is handled by the CSV parser). Ids that are all integers are
compared as integers (``007`` is ``7``); otherwise as text. Class labels are
compared as text, with numbers written the same way (``1``, ``1.0`` and
``01`` are the same class).
"""

import csv
import gzip
import io
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .terms import ArtifactFile

CSV_SUFFIXES = (".csv", ".tsv", ".csv.gz", ".tsv.gz")
PARQUET_SUFFIXES = (".parquet", ".pq")
BLOCK_BYTES = 4 << 20
HEADER_BYTES = 1 << 20
PARQUET_BATCH_ROWS = 256 * 1024
MAX_CLASSES = 1000
MAX_SLICES = 1000
EMPTY_SLICE = "(empty)"

_CSV_COLUMN = re.compile(r"In CSV column #(\d+): .*?(?:invalid value '(.*)')?$", re.S)


class FileProblem(Exception):
    """The whole file cannot be used; the message says what to fix."""


class _ColumnUnreadable(Exception):
    def __init__(self, column: str, value: str | None):
        super().__init__(column)
        self.column = column
        self.value = value


def canonical(value) -> str | None:
    """A class label or slice value as text, numbers written one way: 1, 1.0 and '01' are '1'."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return None
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    text = str(value).strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        return text
    if math.isfinite(number) and number.is_integer() and "e" not in text.lower():
        return str(int(number))
    return text


class ClassBook:
    """Codes for class labels shared by predictions and labels: one small integer per class."""

    def __init__(self, seed: list[str] | None = None, closed: bool = False):
        self.names: list[str] = []
        self.index: dict[str, int] = {}
        self.closed = False
        self.strangers: dict[str, str] = {}  # unknown class -> where it was seen
        for name in seed or []:
            self.code(name)
        self.closed = closed  # a closed book refuses classes it was not seeded with

    def code(self, name: str | None, where: str = "") -> int:
        if name is None:
            return -1
        if name in self.index:
            return self.index[name]
        if self.closed:
            self.strangers.setdefault(name, where)
            return -2
        if len(self.names) >= MAX_CLASSES:
            raise FileProblem(
                f"{where} holds more than {MAX_CLASSES} distinct classes: is this a classification task?"
            )
        self.index[name] = len(self.names)
        self.names.append(name)
        return self.index[name]


@dataclass
class Column:
    """What a table reader wants of one logical column."""

    role: str  # "id", "label", "prediction", "score", "proba:<class>", "slice"
    header: str  # the name as written in the file
    kind: str  # "id" | "classes" | "float" | "slice"


@dataclass
class Table:
    """One file's columns, row-aligned."""

    name: str
    rows: int = 0
    int_ids: np.ndarray | None = None  # int64, when every id is an integer
    text_ids: pa.ChunkedArray | None = None  # otherwise
    null_id_rows: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    arrays: dict[str, np.ndarray] = field(default_factory=dict)  # by role
    problems: dict[str, str] = field(default_factory=dict)  # by role: why it is not usable
    slice_names: list[str] = field(default_factory=list)


def header_of(artifact: ArtifactFile) -> list[str]:
    """The column names of a CSV or Parquet file. Raises FileProblem.

    A CSV header is parsed from the file's first line with the csv module (as pyarrow
    parses it: BOM dropped, quotes removed), without converting a block of rows."""
    suffix = artifact.suffix
    try:
        if suffix in PARQUET_SUFFIXES:
            return list(pq.ParquetFile(artifact.path).schema_arrow.names)
        if suffix in CSV_SUFFIXES:
            opener = gzip.open if suffix.endswith(".gz") else open
            with opener(artifact.path, "rb") as stream:
                head = stream.read(HEADER_BYTES)
            if not head.strip():
                raise FileProblem(f"{artifact.name} is empty: it needs a header row and one row per id")
            text = head.decode("utf-8-sig", errors="replace")
            delimiter = "\t" if suffix.startswith(".tsv") else ","
            return next(csv.reader(io.StringIO(text), delimiter=delimiter))
    except FileNotFoundError:
        raise FileProblem(f"{artifact.name} is missing from storage") from None
    except (pa.ArrowException, OSError, EOFError, csv.Error) as exc:
        fmt = "Parquet" if suffix in PARQUET_SUFFIXES else "CSV"
        if artifact.size == 0 or "Parquet file size is 0" in str(exc):
            raise FileProblem(f"{artifact.name} is empty: it needs a header row and one row per id") from None
        raise FileProblem(f"{artifact.name} cannot be read as {fmt}: {_short(str(exc))}") from None
    raise FileProblem(f"{artifact.name} is neither CSV nor Parquet: name it .csv, .tsv, .csv.gz or .parquet")


def find(header: list[str], wanted: str) -> str | None:
    """The header name that means ``wanted``: exact first, then ignoring case and spaces."""
    if wanted in header:
        return wanted
    folded = wanted.strip().lower()
    for name in header:
        if name.strip().lstrip("\ufeff").strip('"').strip().lower() == folded:
            return name
    return None


def proba_columns(header: list[str]) -> dict[str, str]:
    """{class: header name} for every ``proba_<class>`` column."""
    found = {}
    for name in header:
        clean = name.strip()
        if clean.lower().startswith("proba_") and len(clean) > len("proba_"):
            found[canonical(clean[len("proba_") :])] = name
    return found


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text[:limit] + ("…" if len(text) > limit else "")


def _csv_source(artifact: ArtifactFile):
    if artifact.suffix.endswith(".gz"):
        return pa.CompressedInputStream(pa.OSFile(str(artifact.path)), "gzip")
    return str(artifact.path)


def _csv_options(
    artifact: ArtifactFile, include: list[str] | None, types: dict, threads: bool = True
) -> dict:
    delimiter = "\t" if artifact.suffix.startswith(".tsv") else ","
    return {
        "read_options": pacsv.ReadOptions(block_size=BLOCK_BYTES, use_threads=threads),
        "parse_options": pacsv.ParseOptions(delimiter=delimiter),
        "convert_options": pacsv.ConvertOptions(
            include_columns=include,
            column_types=types,
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    }


def _batches(
    artifact: ArtifactFile, columns: list[Column], id_as_text: bool, threads: bool
) -> Iterator[pa.RecordBatch]:
    """Record batches of just these columns. Raises _ColumnUnreadable for a CSV value that does
    not convert (the caller drops the column or reads it as text, and starts again)."""
    headers = [c.header for c in columns]
    if artifact.suffix in PARQUET_SUFFIXES:
        parquet = pq.ParquetFile(artifact.path)
        yield from parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=headers, use_threads=threads)
        return
    types = {}
    for column in columns:
        if column.kind == "id":
            types[column.header] = pa.string() if id_as_text else pa.int64()
        elif column.kind == "float":
            types[column.header] = pa.float64()
        else:  # classes and slices: decoded straight into codes and a small dictionary
            types[column.header] = pa.dictionary(pa.int32(), pa.string())
    all_headers = header_of(artifact)

    def unreadable(exc: pa.ArrowInvalid) -> Exception:
        match = _CSV_COLUMN.search(str(exc))
        if match and int(match.group(1)) < len(all_headers):
            return _ColumnUnreadable(all_headers[int(match.group(1))], match.group(2))
        return FileProblem(f"{artifact.name} cannot be read as CSV: {_short(str(exc))}")

    try:  # the first block is parsed and converted here already
        reader = pacsv.open_csv(_csv_source(artifact), **_csv_options(artifact, headers, types, threads))
    except pa.ArrowInvalid as exc:
        raise unreadable(exc) from None
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            return
        except pa.ArrowInvalid as exc:
            raise unreadable(exc) from None
        yield batch


def read_table(
    artifact: ArtifactFile,
    columns: list[Column],
    books: dict[str, ClassBook],
    progress: Callable[[int, int | None], None] | None = None,
    threads: bool = True,
) -> Table:
    """Read the given columns of one file. ``books`` gives the ClassBook of each "classes" role and
    of "slice". A column that cannot be used is dropped and named in ``Table.problems``.
    Raises FileProblem when the file as a whole cannot be used."""
    id_as_text = False
    wanted = list(columns)
    problems: dict[str, str] = {}
    total = _parquet_rows(artifact)
    for _attempt in range(len(columns) + 2):
        try:
            table = _read_once(artifact, wanted, books, id_as_text, progress, total, threads)
        except _ColumnUnreadable as exc:
            column = next((c for c in wanted if c.header == exc.column), None)
            if column is None:
                raise FileProblem(f"{artifact.name} cannot be read as CSV (column {exc.column!r})") from None
            if column.kind == "id" and not id_as_text:
                id_as_text = True
                continue
            problems[column.role] = _not_numeric(artifact, column, exc.value)
            wanted = [c for c in wanted if c is not column]
            continue
        table.problems.update(problems)
        return table
    raise FileProblem(f"{artifact.name} cannot be read: too many unreadable columns")


def _parquet_rows(artifact: ArtifactFile) -> int | None:
    if artifact.suffix in PARQUET_SUFFIXES:
        try:
            return pq.ParquetFile(artifact.path).metadata.num_rows
        except (pa.ArrowException, OSError) as exc:
            raise FileProblem(f"{artifact.name} cannot be read as Parquet: {_short(str(exc))}") from None
    return None


def _not_numeric(artifact: ArtifactFile, column: Column, value) -> str:
    shown = f" (it holds {value!r})" if value is not None else ""
    what = {
        "score": "write the positive class's probability (or score) as a number",
        "label": "regression labels must be numbers",
        "prediction": "regression predictions must be numbers",
    }.get(column.role, "probabilities must be numbers between 0 and 1")
    return f"the {column.header!r} column of {artifact.name} is not numeric{shown}: {what}"


class _Buffer:
    """A growing numpy array. Rows are copied in batch by batch, so each batch's arrow memory goes
    back to pyarrow's pool for the next one; the capacity comes from the row estimate, and pages
    past what is written are never touched (fresh memory is what costs, on some machines a lot)."""

    def __init__(self, dtype, capacity: int):
        self.array = np.empty(max(capacity, 1024), dtype=dtype)
        self.size = 0

    def extend(self, values: np.ndarray) -> None:
        end = self.size + len(values)
        if end > len(self.array):
            grown = np.empty(max(end, 2 * len(self.array)), dtype=self.array.dtype)
            grown[: self.size] = self.array[: self.size]
            self.array = grown
        self.array[self.size : end] = values
        self.size = end

    def view(self) -> np.ndarray:
        return self.array[: self.size]


def estimate_rows(artifact: ArtifactFile) -> int | None:
    """Rows in a file: exact from Parquet metadata, else from the line length at a CSV's head."""
    try:
        if artifact.suffix in PARQUET_SUFFIXES:
            return pq.ParquetFile(artifact.path).metadata.num_rows
        if artifact.suffix.endswith(".gz"):
            return None
        with open(artifact.path, "rb") as stream:
            head = stream.read(HEADER_BYTES)
    except (pa.ArrowException, OSError):
        return None  # the reader says what is wrong with the file; this is only an estimate
    lines = head.count(b"\n")
    if len(head) < HEADER_BYTES:
        return max(lines - 1 + (0 if head.endswith(b"\n") else 1), 0)
    return max(int(artifact.size * lines / len(head)) - 1, 0) if lines else None


def _read_once(artifact, columns, books, id_as_text, progress, total, threads) -> Table:
    table = Table(name=artifact.name)
    estimate = estimate_rows(artifact)
    capacity = int((estimate or 0) * 1.1) + 65536
    buffers: dict[str, _Buffer] = {}
    for column in columns:
        if column.kind == "float":
            buffers[column.role] = _Buffer(np.float64, capacity)
        elif column.kind in ("classes", "slice"):
            buffers[column.role] = _Buffer(np.int16, capacity)
    int_ids = _Buffer(np.int64, capacity)
    text_ids: list[pa.Array] = []
    null_rows: list[np.ndarray] = []
    dropped: dict[str, str] = {}
    rows = 0
    try:
        for batch in _batches(artifact, columns, id_as_text, threads):
            for position, column in enumerate(columns):
                values = batch.column(position)
                if column.kind == "id":
                    id_as_text = _ids(values, int_ids, text_ids, id_as_text)
                    if values.null_count:
                        null_rows.append(
                            rows + np.flatnonzero(values.is_null().to_numpy(zero_copy_only=False))
                        )
                elif column.role in dropped:
                    continue
                elif column.kind == "float":
                    floats = _floats(values)
                    if floats is None:
                        dropped[column.role] = _not_numeric(artifact, column, None)
                        del buffers[column.role]
                    else:
                        buffers[column.role].extend(floats)
                else:
                    book = books[column.role if column.kind == "classes" else "slice"]
                    buffers[column.role].extend(_codes(values, book, artifact.name, column.kind == "slice"))
            rows += batch.num_rows
            del batch
            if progress is not None:
                progress(rows, total)
    except (pa.ArrowInvalid, pa.ArrowException, OSError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise FileProblem(f"{artifact.name} is missing from storage") from None
        raise FileProblem(f"{artifact.name} cannot be read: {_short(str(exc))}") from None

    table.rows = rows
    if text_ids:
        table.text_ids = pa.chunked_array(text_ids, type=pa.string())
    else:
        table.int_ids = int_ids.view()
    table.null_id_rows = np.concatenate(null_rows) if null_rows else np.empty(0, np.int64)
    for role, buffer in buffers.items():
        table.arrays[role] = buffer.view()
    table.problems.update(dropped)
    return table


def _ids(values: pa.Array, int_ids: _Buffer, text_ids: list, as_text: bool) -> bool:
    """Append one batch of ids; returns whether the file's ids are text from now on."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not as_text and (pa.types.is_integer(values.type) or pa.types.is_floating(values.type)):
        try:
            ints = values if values.type == pa.int64() else values.cast(pa.int64(), safe=True)
        except pa.ArrowInvalid:  # 1.5 is no integer id
            ints = None
        if ints is not None:
            if ints.null_count:
                ints = pc.fill_null(ints, 0)
            int_ids.extend(ints.to_numpy(zero_copy_only=False))
            return False
    # Text from here on: earlier integer batches become text too.
    if int_ids.size:
        text_ids.append(pa.array(int_ids.view()).cast(pa.string()))
        int_ids.size = 0
    text_ids.append(values.cast(pa.string()))
    return True


def _floats(values) -> np.ndarray | None:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    try:
        floats = values if values.type == pa.float64() else values.cast(pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if floats.null_count:
        floats = pc.fill_null(floats, np.nan)
    return floats.to_numpy(zero_copy_only=False)


def _codes(values, book: ClassBook, where: str, is_slice: bool) -> np.ndarray:
    """Small integer codes for one batch of a class or slice column (-1: empty, -2: unknown class)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    encoded = values if pa.types.is_dictionary(values.type) else pc.dictionary_encode(values)
    names = [canonical(v) for v in encoded.dictionary.to_pylist()]
    if is_slice:
        names = [EMPTY_SLICE if n is None else n for n in names]
        lookup = [book.code(n, where) for n in names]
        if len(book.names) > MAX_SLICES:
            raise FileProblem(f"{where}: the slice column holds more than {MAX_SLICES} distinct values")
        empty = book.code(EMPTY_SLICE, where) if encoded.null_count else -1
    else:
        lookup = [book.code(n, where) for n in names]
        empty = -1
    table = np.asarray(lookup + [empty], dtype=np.int16)
    indices = encoded.indices
    if indices.null_count:
        indices = indices.fill_null(-1)
    return table[indices.to_numpy(zero_copy_only=False)]
