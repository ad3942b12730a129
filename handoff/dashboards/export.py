"""The dashboard's figures as CSV: what the page shows, in rows a spreadsheet reads.

Three tables one after the other, each under a header row: the figures
(section, figure, value), the weekly series and the per-project table."""

import csv

from handoff.incidents.models import Severity

SEVERITIES = [s.value for s in Severity]


def figure_rows(data):
    """(section, figure, value) for every single figure of the dashboard."""
    handovers, production, incidents = data["handovers"], data["production"], data["incidents"]
    yield "period", "days", data["period"]["days"]
    yield "period", "start", data["period"]["start"]
    yield "period", "end", data["period"]["end"]
    yield "period", "project", data["project"] or "all"
    yield "handovers", "accepted", handovers["accepted"]
    for name in ("lead_time", "review_wait"):
        for key in ("count", "median_hours", "p90_hours"):
            yield "handovers", f"{name}_{key}", handovers[name][key]
    for key in ("first_runs", "first_pass_rate", "change_requests", "change_requests_per_accepted",
                "contracts_selected", "candidates_per_contract"):
        yield "handovers", key, handovers[key]
    for row in data["validation_failures"]:
        yield "validation_failures", row["check"], row["failures"]
    for key, value in production.items():
        yield "production", key, value
    for kind in ("open", "opened"):
        for severity in ("total", *SEVERITIES):
            yield "incidents", f"{kind}_{severity}", incidents[kind][severity]
    for key in ("mtta_hours", "mttr_hours", "per_deployed_model"):
        yield "incidents", key, incidents[key]
    for row in data["workload"]:
        for key in ("drafting", "reviewing", "incidents", "total"):
            yield "workload", f"{row['username']}_{key}", row[key]


WEEKLY = ["week", "accepted", "lead_time_median_hours", "first_runs", "first_pass_rate", "incidents_opened",
          *(f"incidents_opened_{s}" for s in SEVERITIES)]
PROJECTS = ["project", "name", "accepted", "lead_time_median_hours", "first_pass_rate", "deployed_models",
            "open_incidents", "mttr_hours", "monthly_value", "monthly_cost", "value_at_risk"]


def _blank(value):
    return "" if value is None else value


def write_csv(data, out):
    writer = csv.writer(out)
    writer.writerow(["section", "figure", "value"])
    writer.writerows((s, f, _blank(v)) for s, f, v in figure_rows(data))
    writer.writerow([])
    writer.writerow(WEEKLY)
    for week in data["weekly"]:
        opened = week["incidents_opened"]
        writer.writerow([week["week"], week["accepted"], _blank(week["lead_time_median_hours"]),
                         week["first_runs"], _blank(week["first_pass_rate"]), opened["total"],
                         *(opened[s] for s in SEVERITIES)])
    writer.writerow([])
    writer.writerow(PROJECTS)
    for row in data["by_project"]:
        writer.writerow([row["slug"], *(_blank(row[key]) for key in PROJECTS[1:])])
