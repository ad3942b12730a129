"""The figures of a `make fuzz` run (scripts/fuzz), one row per person:
operations tested, test cases schemathesis generated, requests the server
answered (its access log: schemathesis' checks send more than one request per
case), failures (schemathesis' unique ones) and server errors (5xx answers).
Exits 1 if there was a failure or a server error.

    python scripts/fuzz_figures.py WORK_FOLDER ROLE...
"""

import json
import sys
from collections import Counter
from pathlib import Path


def figures(work, role):
    report = json.loads((work / f"{role}.json").read_text())
    # "status method path"; a fuzzed path may hold spaces, or a newline that starts a line of its own.
    statuses = [fields for fields in (line.split(" ", 2) for line in (work / f"{role}.access").read_text()
                                      .splitlines()) if fields[0].isdigit() and len(fields[0]) == 3]
    server_errors = Counter(" ".join(fields) for fields in statuses if fields[0].startswith("5"))
    operations = report.get("operations") or {}
    cases = report.get("test_cases") or {}
    return {
        "role": role,
        "operations": f"{operations.get('tested', 0)}/{operations.get('selected', 0)}",
        "test cases": cases.get("generated", 0),
        "requests": len(statuses),
        "failures": cases.get("unique_failures", 0),
        "server errors": sum(server_errors.values()),
        "errors": sum(error["count"] for error in report.get("errors", [])),
        "time": f"{report.get('running_time') or 0:.0f} s",
        "stop": report.get("stop_reason"),
    }, report.get("failures", []), server_errors


def main(work, roles):
    rows, bad = [], False
    for role in roles:
        row, failures, server_errors = figures(work, role)
        rows.append(row)
        for group in failures:
            print(f"{role}: {group['title']} ({group['count']}) in {', '.join(group['operations'])}")
        for line, count in server_errors.most_common():
            print(f"{role}: {count} x {line}")
        bad |= bool(row["failures"] or row["server errors"] or row["errors"] or failures)
    columns = list(rows[0])
    widths = {column: max(len(column), *(len(str(row[column])) for row in rows)) for column in columns}
    print("| " + " | ".join(column.ljust(widths[column]) for column in columns) + " |")
    print("| " + " | ".join("-" * widths[column] for column in columns) + " |")
    for row in rows:
        print("| " + " | ".join(str(row[column]).ljust(widths[column]) for column in columns) + " |")
    totals = {column: sum(row[column] for row in rows) for column in ("test cases", "requests", "failures",
                                                                         "server errors")}
    print("total: " + ", ".join(f"{value} {column}" for column, value in totals.items()))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), sys.argv[2:]))
