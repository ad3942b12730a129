"""A realistic volume of data, to measure pages at the size of a large company.

At ``scale=1.0``: 50 teams of 10 people (500 users), 200 projects, 2 000
models, 100 000 handovers with 1–3 revisions each, their claims, artifacts,
validation runs and check results, reviews, deployments with their monthly
value and cost, 5 000 contracts with candidates, 20 000 incidents with
timelines, audit events, and a million metric observations, all dated over the
last 365 days and consistent with each lifecycle (an accepted handover has an
accepting review of its last revision, a deployed one an active deployment, a
resolved incident was acknowledged before it was resolved …).

Speed comes from writing rows, not objects: every row is a tuple with an id
chosen here, written with ``COPY … FROM STDIN`` on PostgreSQL (foreign keys
are dropped while loading and added back, so PostgreSQL checks each once, in
one join, instead of once per row) and with ``executemany`` elsewhere. Not
``bulk_create``: it would stamp ``auto_now``/``auto_now_add`` fields with the
time of the run and erase the year of history. One ``random.Random(seed)``
makes the same data every time.

``generate_volume`` (the management command) calls ``generate``; the
benchmark (``benchmarks/pages.py``) logs in as the accounts it names.
"""

import csv
import io
import json
import math
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import JSONField
from django.utils import timezone

from handoff.audit.models import AuditEvent
from handoff.contracts.models import (
    Candidate,
    Contract,
    ContractArtifact,
    ContractSignature,
    ContractState,
    Requirement,
)
from handoff.deployments.models import (
    Deployment,
    DeploymentStatus,
    IngestionToken,
    MetricBatch,
    MetricObservation,
)
from handoff.handovers.contract import TERM_FIELDS
from handoff.handovers.models import (
    Artifact,
    ClaimedMetric,
    Handover,
    HandoverState,
    Model,
    Review,
    ReviewDecision,
    Revision,
)
from handoff.incidents.models import EventKind, Incident, IncidentStatus, TimelineEvent
from handoff.teams.models import Project, Role, RoleAssignment, Stage, Team
from handoff.validation.models import CheckResult, ValidationRun

User = get_user_model()
S = HandoverState

PASSWORD = "handoff-volume"
# The volume's teams are named so; a database holding one is not filled again.
TEAM_SLUG = "vol-team-{:02d}"
AT_SCALE_1 = {
    "teams": 50,
    "models": 2_000,
    "handovers": 100_000,
    "contracts": 5_000,
    "incidents": 20_000,
    "observations": 1_000_000,
}
PROJECTS_PER_TEAM = 4
SCIENTISTS_PER_TEAM = 4  # each a data scientist on two of the team's projects
ENGINEERS_PER_TEAM = 3  # each an ML engineer on every project of the team
# A leader, a manager and a product manager complete a team of ten.
PEOPLE_PER_TEAM = SCIENTISTS_PER_TEAM + ENGINEERS_PER_TEAM + 3
OBSERVATIONS_PER_BATCH = 100
DAYS = 365
CHUNK = 50_000  # rows per COPY

WORDS = (
    "churn fraud credit risk demand price route ranking search spam vision speech claims "
    "retention triage forecast anomaly lead match review supply stock energy yield ad"
).split()
FIRST = "Ada Ben Chloe Dev Eva Farid Gita Hugo Ines Jon Kim Lea Mo Nia Omar Pia Raj Sara Tom Uma".split()
LAST = "Ahn Berg Costa Diaz Egan Fox Gray Haas Ito Jain Kaur Lund Moss Nagy Ortiz Park Ruiz Sato".split()
TASKS = ("binary_classification", "multiclass_classification", "regression")
TASK_METRICS = {
    "binary_classification": ("accuracy", "roc_auc"),
    "multiclass_classification": ("accuracy", "f1"),
    "regression": ("mae", "rmse"),
}
FRAMEWORKS = (
    ("scikit-learn", "1.5.2"),
    ("pytorch", "2.4.1"),
    ("xgboost", "2.1.1"),
    ("lightgbm", "4.5.0"),
    ("tensorflow", "2.17.0"),
)
FIXED_CHECKS = (
    "integrity",
    "model.format",
    "model.framework",
    "model.parameters",
    "runtime.latency_p95_ms",
    "runtime.peak_memory_mb",
    "data.ids",
    "data.rows",
)
# Which check fails a failed run, and how often.
FAILING_CHECKS = (
    ("metric", 0.5),
    ("runtime.latency_p95_ms", 0.2),
    ("data.ids", 0.15),
    ("model.format", 0.15),
)
# Open states of a model's latest versions (its older ones are settled).
RECENT_STATES = (
    (S.DRAFT, 0.22),
    (S.VALIDATING, 0.04),
    (S.VALIDATION_FAILED, 0.12),
    (S.AWAITING_REVIEW, 0.27),
    (S.CHANGES_REQUESTED, 0.15),
    (S.ACCEPTED, 0.20),
)
OLDER_STATES = (
    (S.RETIRED, 0.25),
    (S.ACCEPTED, 0.48),
    (S.CHANGES_REQUESTED, 0.14),
    (S.VALIDATION_FAILED, 0.07),
    (S.DRAFT, 0.06),
)
OPEN_CANDIDATE_STATES = (
    (S.DRAFT, 0.15),
    (S.VALIDATING, 0.05),
    (S.VALIDATION_FAILED, 0.15),
    (S.AWAITING_REVIEW, 0.45),
    (S.CHANGES_REQUESTED, 0.20),
)
REVIEWED = {S.CHANGES_REQUESTED, S.ACCEPTED, S.DEPLOYED, S.RETIRED}
PASSED = REVIEWED | {S.AWAITING_REVIEW, S.NOT_SELECTED}
SEVERITIES = (("sev1", 0.05), ("sev2", 0.2), ("sev3", 0.45), ("sev4", 0.3))
SLA_MINUTES = {"sev1": 15, "sev2": 60, "sev3": 8 * 60, "sev4": 3 * 24 * 60}
# Median minutes to acknowledge, by severity (log-normal around it).
ACK_MINUTES = {"sev1": 6, "sev2": 25, "sev3": 150, "sev4": 900}
INCIDENT_STEPS = (
    IncidentStatus.ACKNOWLEDGED,
    IncidentStatus.INVESTIGATING,
    IncidentStatus.MITIGATED,
    IncidentStatus.RESOLVED,
    IncidentStatus.CLOSED,
)
ROOT_CAUSES = ("data_drift", "concept_drift", "data_pipeline", "code_defect", "infrastructure", "performance")


def plan(scale=1.0):
    """How many of each the volume holds at ``scale`` (at least a couple of each)."""
    if not scale > 0:
        raise ValueError("The scale must be a positive number, such as 1.0 or 0.01.")
    teams = max(2, round(AT_SCALE_1["teams"] * scale))
    projects = teams * PROJECTS_PER_TEAM
    models = max(projects, round(AT_SCALE_1["models"] * scale))
    return {
        "teams": teams,
        "projects": projects,
        "users": teams * PEOPLE_PER_TEAM,
        "models": models,
        "handovers": max(models * 3, round(AT_SCALE_1["handovers"] * scale)),
        "contracts": max(projects, round(AT_SCALE_1["contracts"] * scale)),
        "incidents": max(projects, round(AT_SCALE_1["incidents"] * scale)),
        "observations": max(OBSERVATIONS_PER_BATCH * 10, round(AT_SCALE_1["observations"] * scale)),
    }


def existing_data():
    """What the database already holds that generate_volume would add beside: {table: rows}."""
    counts = {
        "users": User.objects.count(),
        "teams": Team.objects.count(),
        "handovers": Handover.objects.count(),
    }
    return {name: n for name, n in counts.items() if n}


def holds_volume():
    return Team.objects.filter(slug=TEAM_SLUG.format(1)).exists()


def accounts(teams):
    """(username, what) of the accounts a benchmark logs in with (every one has ``PASSWORD``)."""
    return [
        ("lead01", f"leader of team 1 (every leader: lead01 … lead{teams:02d})"),
        ("mgr01", "manager of team 1's projects (mgr01 …)"),
        ("pm01", "product manager of team 1's projects (pm01 …)"),
        (
            "ds0001",
            f"data scientist on two projects of team 1 (ds0001 … ds{teams * SCIENTISTS_PER_TEAM:04d})",
        ),
        (
            "mle0001",
            f"ML engineer on every project of team 1 (mle0001 … mle{teams * ENGINEERS_PER_TEAM:04d})",
        ),
    ]


@dataclass
class Story:
    """One handover as it happened: its revisions' times and where it ended."""

    pk: int
    model: int
    project: int
    owner: int
    created: object
    state: str = ""
    candidate_of: int | None = None
    revisions: list = field(default_factory=list)  # [Rev]
    deployments: list = field(default_factory=list)  # [deployment ids]
    reviewer: int | None = None
    awaiting_since: object = None
    updated: object = None
    label: str = ""
    terms: dict = field(default_factory=dict)
    deploy_at: object = None
    end_at: object = None


@dataclass
class Rev:
    pk: int
    number: int
    created: object
    submitted: object = None
    run_state: str = ""  # "", queued, running, passed, failed
    run_started: object = None
    run_finished: object = None
    decision: str = ""  # "", accept, request_changes
    reviewed: object = None
    reviewer: int | None = None


class Rows:
    """Writes rows of one model at a time: COPY on PostgreSQL, executemany elsewhere."""

    def __init__(self, out):
        self.out = out
        self.postgres = connection.vendor == "postgresql"
        self.started = time.perf_counter()
        self.next_id = {}
        self.written = {}

    def ids(self, model):
        """The next free id of ``model`` (ids are chosen here, so rows can point at each other)."""
        if model not in self.next_id:
            with connection.cursor() as cursor:
                cursor.execute(f'SELECT MAX(id) FROM "{model._meta.db_table}"')  # noqa: S608 (a model's table)
                self.next_id[model] = (cursor.fetchone()[0] or 0) + 1
        return self.next_id[model]

    def take(self, model):
        pk = self.ids(model)
        self.next_id[model] = pk + 1
        return pk

    def write(self, model, columns, rows):
        """Insert ``rows`` (tuples in the order of ``columns``; JSON already as text)."""
        table = model._meta.db_table
        count = 0
        chunk = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= CHUNK:
                self._insert(model, table, columns, chunk)
                count += len(chunk)
                chunk = []
        if chunk:
            self._insert(model, table, columns, chunk)
            count += len(chunk)
        self.written[model] = self.written.get(model, 0) + count
        self.out(f"  {table:<34}{count:>10,} rows   {time.perf_counter() - self.started:7.1f} s")
        return count

    def mark(self, label):
        self.out(f"  {label:<52}{time.perf_counter() - self.started:7.1f} s")

    def _insert(self, model, table, columns, chunk):
        with connection.cursor() as cursor:
            if self.postgres:
                buffer = io.StringIO()
                writer = csv.writer(buffer, lineterminator="\n")
                null = "\\N"
                writer.writerows([null if value is None else value for value in row] for row in chunk)
                buffer.seek(0)
                names = ", ".join(f'"{name}"' for name in columns)
                cursor.cursor.copy_expert(
                    f"COPY \"{table}\" ({names}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buffer
                )
            else:
                fields = [model._meta.get_field(_field_name(model, name)) for name in columns]
                prepared = [
                    tuple(
                        f.get_db_prep_save(
                            json.loads(v) if isinstance(f, JSONField) and v is not None else v, connection
                        )
                        for f, v in zip(fields, row, strict=True)
                    )
                    for row in chunk
                ]
                names = ", ".join(f'"{name}"' for name in columns)
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', prepared)  # noqa: S608


def _field_name(model, column):
    for f in model._meta.concrete_fields:
        if f.column == column:
            return f.name
    raise LookupError(f"{model.__name__} has no column {column}")


def _dumps(value):
    return json.dumps(value, separators=(",", ":"))


class Volume:
    def __init__(self, scale, seed, out):
        self.plan = plan(scale)
        self.rng = random.Random(seed)
        self.out = out
        self.rows = Rows(out)
        self.now = timezone.now().replace(microsecond=0)
        self.start = self.now - timedelta(days=DAYS)
        self.audit = []  # rows of AuditEvent, written last
        self.ct = {
            model: ContentType.objects.get_for_model(model).pk
            for model in (Handover, Incident, Contract, Deployment)
        }

    # --- small helpers -------------------------------------------------------------------------

    def pick(self, weighted):
        r = self.rng.random() * sum(w for _, w in weighted)
        for value, weight in weighted:
            r -= weight
            if r <= 0:
                return value
        return weighted[-1][0]

    def hours(self, low, high):
        return timedelta(hours=self.rng.uniform(low, high))

    def minutes_lognormal(self, median, sigma=1.0):
        return timedelta(minutes=self.rng.lognormvariate(math.log(median), sigma))

    def sha(self):
        return f"{self.rng.getrandbits(256):064x}"

    def event(self, actor, verb, model, pk, label, project, at, **details):
        self.audit.append(
            (
                self.rows.take(AuditEvent),
                actor,
                verb,
                self.ct[model],
                str(pk),
                label[:255],
                project,
                at,
                _dumps(details),
            )
        )

    # --- people, teams, projects ---------------------------------------------------------------

    def people(self):
        rng, teams = self.rng, self.plan["teams"]
        password = make_password(PASSWORD)  # one hash for all: hashing 500 times would take minutes
        users = []
        self.leaders, self.managers, self.pms, self.scientists, self.engineers = [], [], [], [], []

        def user(username, role_list, team):
            pk = self.rows.take(User)
            first, last = rng.choice(FIRST), rng.choice(LAST)
            joined = self.start - timedelta(days=rng.randint(1, 400))
            users.append(
                (
                    pk,
                    password,
                    None,
                    False,
                    username,
                    first,
                    last,
                    f"{username}@volume.example",
                    False,
                    True,
                    joined,
                )
            )
            role_list.append(pk)
            self.username[pk] = username
            return pk

        self.username = {}
        for t in range(teams):
            user(f"lead{t + 1:02d}", self.leaders, t)
            user(f"mgr{t + 1:02d}", self.managers, t)
            user(f"pm{t + 1:02d}", self.pms, t)
            for _ in range(SCIENTISTS_PER_TEAM):
                user(f"ds{len(self.scientists) + 1:04d}", self.scientists, t)
            for _ in range(ENGINEERS_PER_TEAM):
                user(f"mle{len(self.engineers) + 1:04d}", self.engineers, t)
        self.rows.write(
            User,
            [
                "id",
                "password",
                "last_login",
                "is_superuser",
                "username",
                "first_name",
                "last_name",
                "email",
                "is_staff",
                "is_active",
                "date_joined",
            ],
            users,
        )

        team_rows, project_rows, role_rows = [], [], []
        self.projects = []  # (pk, team index)
        self.project_scientists, self.project_engineers, self.project_team = {}, {}, {}
        stages = [s.value for s in Stage]
        for t in range(teams):
            team_pk = self.rows.take(Team)
            word = WORDS[t % len(WORDS)]
            team_rows.append(
                (
                    team_pk,
                    f"Team {t + 1:02d} {word.title()}",
                    TEAM_SLUG.format(t + 1),
                    self.leaders[t],
                    self.start - timedelta(days=30),
                )
            )
            scientists = self.scientists[t * SCIENTISTS_PER_TEAM : (t + 1) * SCIENTISTS_PER_TEAM]
            engineers = self.engineers[t * ENGINEERS_PER_TEAM : (t + 1) * ENGINEERS_PER_TEAM]
            for p in range(PROJECTS_PER_TEAM):
                pk = self.rows.take(Project)
                name = f"{WORDS[(t * 7 + p * 3) % len(WORDS)].title()} {p + 1}"
                project_rows.append(
                    (
                        pk,
                        team_pk,
                        name,
                        f"vol-{t + 1:02d}-{p + 1}",
                        f"{name} of team {t + 1}.",
                        rng.choice(stages),
                        self.start - timedelta(days=20),
                    )
                )
                self.projects.append(pk)
                self.project_team[pk] = t
                mine = [scientists[p], scientists[(p + 1) % SCIENTISTS_PER_TEAM]]
                self.project_scientists[pk], self.project_engineers[pk] = mine, engineers
                at = self.start - timedelta(days=10)
                for person in mine:
                    role_rows.append((self.rows.take(RoleAssignment), person, pk, Role.DATA_SCIENTIST, at))
                for person in engineers:
                    role_rows.append((self.rows.take(RoleAssignment), person, pk, Role.ML_ENGINEER, at))
                role_rows.append((self.rows.take(RoleAssignment), self.managers[t], pk, Role.MANAGER, at))
                role_rows.append((self.rows.take(RoleAssignment), self.pms[t], pk, Role.PRODUCT_MANAGER, at))
        self.rows.write(Team, ["id", "name", "slug", "leader_id", "created_at"], team_rows)
        self.rows.write(
            Project, ["id", "team_id", "name", "slug", "description", "stage", "created_at"], project_rows
        )
        self.rows.write(RoleAssignment, ["id", "user_id", "project_id", "role", "created_at"], role_rows)

        tokens = []
        self.token = {}
        for pk in self.projects:
            token_pk = self.rows.take(IngestionToken)
            digest = self.sha()
            tokens.append(
                (
                    token_pk,
                    pk,
                    "monitoring",
                    digest[:8],
                    digest,
                    self.project_engineers[pk][0],
                    self.start,
                    self.now,
                    None,
                    None,
                )
            )
            self.token[pk] = token_pk
        self.rows.write(
            IngestionToken,
            [
                "id",
                "project_id",
                "name",
                "prefix",
                "digest",
                "created_by_id",
                "created_at",
                "last_used_at",
                "revoked_at",
                "revoked_by_id",
            ],
            tokens,
        )

    # --- models -------------------------------------------------------------------------------

    def models(self):
        rng, rows = self.rng, []
        self.model_project, self.model_owner, self.model_task, self.model_name = {}, {}, {}, {}
        self.project_models = {pk: [] for pk in self.projects}
        for m in range(self.plan["models"]):
            project = self.projects[m % len(self.projects)]
            pk = self.rows.take(Model)
            owner = rng.choice(self.project_scientists[project])
            name = f"{rng.choice(WORDS)}-{rng.choice(WORDS)}-{m + 1}"
            rows.append(
                (
                    pk,
                    project,
                    name,
                    f"Predicts {name.split('-')[0]}.",
                    owner,
                    self.start - timedelta(days=rng.uniform(0, 5)),
                )
            )
            self.model_project[pk], self.model_owner[pk], self.model_name[pk] = project, owner, name
            self.model_task[pk] = rng.choice(TASKS)
            self.project_models[project].append(pk)
        self.rows.write(Model, ["id", "project_id", "name", "description", "owner_id", "created_at"], rows)

    # --- contracts (before handovers: candidates are handovers filed against them) -----------

    def contracts(self):
        rng = self.rng
        rows, requirements, artifacts, signatures = [], [], [], []
        self.contract_rows = {}
        self.candidate_slots = []  # (contract pk, project, agreed_at, closed: whether one must be selected)
        total = self.plan["contracts"]
        made = 0
        while made < total:
            project = self.projects[made % len(self.projects)]
            versions = 2 if rng.random() < 0.2 and total - made >= 2 else 1
            series = uuid.UUID(int=rng.getrandbits(128), version=4)
            created = self.start + timedelta(days=rng.uniform(0, DAYS - 60))
            if versions == 1:
                states = [
                    self.pick(
                        (
                            (ContractState.DRAFT, 0.12),
                            (ContractState.PROPOSED, 0.12),
                            (ContractState.AGREED, 0.6),
                            (ContractState.CLOSED, 0.16),
                        )
                    )
                ]
            elif rng.random() < 0.7:
                states = [ContractState.SUPERSEDED, ContractState.AGREED]
            else:
                states = [ContractState.AGREED, rng.choice([ContractState.DRAFT, ContractState.PROPOSED])]
            title = f"{rng.choice(WORDS).title()} {rng.choice(WORDS)} model"
            task = rng.choice(TASKS)
            for version, state in enumerate(states, start=1):
                pk = self.rows.take(Contract)
                ds, mle = (
                    rng.choice(self.project_scientists[project]),
                    rng.choice(self.project_engineers[project]),
                )
                agreed = None
                if state in (ContractState.AGREED, ContractState.SUPERSEDED, ContractState.CLOSED):
                    agreed = min(created + self.hours(24, 14 * 24), self.now - timedelta(days=1))
                updated = agreed or created + self.hours(1, 48)
                if state in (ContractState.SUPERSEDED, ContractState.CLOSED):
                    updated = agreed + timedelta(days=rng.uniform(10, 25))
                updated = min(updated, self.now)
                metrics = TASK_METRICS[task]
                rows.append(
                    (
                        pk,
                        project,
                        series,
                        version,
                        title,
                        state,
                        rng.random() < 0.2,
                        ds,
                        created,
                        updated,
                        agreed,
                        task,
                        "",
                        "",
                        "onnx",
                        rng.choice((20.0, 50.0, 100.0)),
                        1,
                        512.0,
                        None,
                        "Last quarter's holdout set.",
                        20_000,
                        "",
                        None,
                        "",
                        "Scoring in the product.",
                        "Not for other markets.",
                        0.005,
                    )
                )
                blind = rows[-1][6]
                self.contract_rows[pk] = (project, task, agreed, title, blind)
                for metric in metrics[: rng.choice((1, 2))]:
                    low = metric in ("mae", "rmse")
                    requirements.append(
                        (self.rows.take(Requirement), pk, metric, None if low else 0.8, 2.5 if low else None)
                    )
                if state != ContractState.DRAFT:
                    artifacts.append(
                        (
                            self.rows.take(ContractArtifact),
                            pk,
                            "labels",
                            f"volume/contracts/{pk}/labels.csv",
                            "labels.csv",
                            160_000,
                            self.sha(),
                            ds,
                            created,
                        )
                    )
                signers = []
                if state == ContractState.PROPOSED and rng.random() < 0.5:
                    signers = [(ds, Role.DATA_SCIENTIST)]
                elif agreed:
                    signers = [(ds, Role.DATA_SCIENTIST), (mle, Role.ML_ENGINEER)]
                for signer, role in signers:
                    at = agreed or updated
                    signatures.append(
                        (self.rows.take(ContractSignature), pk, signer, role, at, self.sha(), "{}")
                    )
                    self.event(
                        signer, "contract.signed", Contract, pk, f"{title} v{version}", project, at, role=role
                    )
                self.event(ds, "contract.created", Contract, pk, f"{title} v{version}", project, created)
                if agreed:
                    self.event(mle, "contract.agreed", Contract, pk, f"{title} v{version}", project, agreed)
                    self.candidate_slots.append((pk, project, agreed, state != ContractState.AGREED))
                created = min((agreed or updated) + self.hours(1, 72), self.now - timedelta(days=3))
                made += 1
        self.rows.write(
            Contract,
            [
                "id",
                "project_id",
                "series",
                "version",
                "title",
                "state",
                "labels_blind",
                "created_by_id",
                "created_at",
                "updated_at",
                "agreed_at",
                "task_type",
                "positive_label",
                "frameworks",
                "model_formats",
                "latency_p95_ms",
                "latency_batch_size",
                "peak_memory_mb",
                "max_parameter_count",
                "validation_description",
                "validation_row_count",
                "fairness_slice_column",
                "fairness_max_gap",
                "fairness_metric",
                "intended_use",
                "limitations",
                "metric_tolerance",
            ],
            rows,
        )
        self.rows.write(Requirement, ["id", "contract_id", "metric", "minimum", "maximum"], requirements)
        self.rows.write(
            ContractArtifact,
            [
                "id",
                "contract_id",
                "kind",
                "file",
                "original_name",
                "size",
                "sha256",
                "uploaded_by_id",
                "uploaded_at",
            ],
            artifacts,
        )
        self.rows.write(
            ContractSignature,
            ["id", "contract_id", "signer_id", "role", "signed_at", "terms_sha256", "artifact_hashes"],
            signatures,
        )

    # --- handovers: first who and when, then each one's story -----------------------------------

    def handovers(self):
        rng = self.rng
        total = self.plan["handovers"]
        stories = []
        # Candidates first (a few per agreed contract), the rest spread over the models.
        candidates = []
        for contract, project, agreed, settled in self.candidate_slots:
            if len(candidates) > total // 10:
                break
            n = rng.choice((1, 2, 2, 3, 4))
            selected = rng.randrange(n) if settled or rng.random() < 0.5 else None
            for i in range(n):
                candidates.append((contract, project, agreed, selected, i))
        by_model = {pk: [] for pk in self.model_project}
        models = list(self.model_project)
        for contract, project, agreed, selected, i in candidates:
            model = rng.choice(self.project_models[project])
            created = agreed + self.hours(1, 20 * 24)
            story = Story(
                self.rows.take(Handover),
                model,
                project,
                self.model_owner[model],
                created,
                candidate_of=contract,
            )
            if selected is None:
                story.state = self.pick(OPEN_CANDIDATE_STATES)
            elif i == selected:
                story.state = S.DEPLOYED if rng.random() < 0.5 else S.ACCEPTED
            else:
                story.state = S.NOT_SELECTED
            by_model[model].append(story)
        for n in range(total - len(candidates)):
            model = models[n % len(models)]
            created = self.start + timedelta(seconds=rng.uniform(0, DAYS * 86400))
            story = Story(
                self.rows.take(Handover), model, self.model_project[model], self.model_owner[model], created
            )
            by_model[model].append(story)
        for own in by_model.values():
            own.sort(key=lambda s: s.created)
            plain = [s for s in own if s.candidate_of is None]
            deployed_one = False
            for position, story in enumerate(reversed(plain)):
                if position < 3:
                    story.state = self.pick(RECENT_STATES)
                elif not deployed_one and rng.random() < 0.8:
                    story.state, deployed_one = S.DEPLOYED, True
                else:
                    story.state = self.pick(OLDER_STATES)
            for number, story in enumerate(own, start=1):
                story.label = f"{1 + number // 20}.{number % 20}.0"
            stories.extend(own)
        for story in stories:
            self.tell(story)
        stories.sort(key=lambda s: s.pk)
        self.stories = stories

    def tell(self, story):
        """The revisions, runs and reviews that lead to ``story.state``, in time order."""
        rng = self.rng
        engineers = self.project_engineers[story.project]
        if story.state in (S.DRAFT, S.VALIDATION_FAILED, S.CHANGES_REQUESTED):
            count = self.pick(((1, 0.5), (2, 0.35), (3, 0.15)))
        else:
            count = self.pick(((1, 0.6), (2, 0.3), (3, 0.1)))
        t = timedelta(0)
        revisions = []
        for number in range(1, count + 1):
            rev = Rev(self.rows.take(Revision), number, t)
            last = number == count
            if last and story.state == S.DRAFT:
                revisions.append(rev)
                t += self.hours(0.1, 12)
                break
            t += self.hours(2, 5 * 24)
            rev.submitted = t
            if last and story.state == S.VALIDATING:
                rev.run_state = rng.choice(("queued", "running"))
                rev.run_started = (
                    t + timedelta(seconds=rng.uniform(1, 20)) if rev.run_state == "running" else None
                )
                revisions.append(rev)
                break
            rev.run_started = t + timedelta(seconds=rng.uniform(1, 30))
            rev.run_finished = rev.run_started + timedelta(seconds=rng.uniform(20, 600))
            t = rev.run_finished
            failed = (story.state == S.VALIDATION_FAILED) if last else rng.random() < 0.4
            rev.run_state = "failed" if failed else "passed"
            if not failed and (not last or story.state in REVIEWED):
                t += self.minutes_lognormal(8 * 60, 1.1)
                rev.reviewed, rev.reviewer = t, rng.choice(engineers)
                accepted = last and story.state in (S.ACCEPTED, S.DEPLOYED, S.RETIRED)
                rev.decision = ReviewDecision.ACCEPT if accepted else ReviewDecision.REQUEST_CHANGES
            revisions.append(rev)
            if not last:
                t += self.hours(1, 3 * 24)
        deploy_at = end_at = None
        if story.state in (S.DEPLOYED, S.RETIRED):
            t += self.hours(2, 10 * 24)
            deploy_at = t
            if story.state == S.RETIRED:
                t += timedelta(days=rng.uniform(7, 90))
                end_at = t
        if story.state == S.NOT_SELECTED:
            t += self.hours(1, 10 * 24)
        # Place the story: it starts when drawn, unless it would end in the future.
        span = t
        start = story.created
        if start + span > self.now:
            start = self.now - span - self.hours(0.05, 6)
        story.created = start
        for rev in revisions:
            rev.created += start
            for name in ("submitted", "run_started", "run_finished", "reviewed"):
                if getattr(rev, name) is not None:
                    setattr(rev, name, getattr(rev, name) + start)
        story.revisions = revisions
        story.updated = start + span
        last = revisions[-1]
        story.reviewer = next((r.reviewer for r in reversed(revisions) if r.reviewer), None)
        if story.state in PASSED:
            story.awaiting_since = last.run_finished
        story.deploy_at = deploy_at + start if deploy_at is not None else None
        story.end_at = end_at + start if end_at is not None else None
        model_task = self.model_task[story.model]
        if story.candidate_of:
            model_task = self.contract_rows[story.candidate_of][1]
        framework, version = FRAMEWORKS[story.model % len(FRAMEWORKS)]
        story.terms = {
            "task": model_task,
            "framework": framework,
            "version": version,
            "latency": rng.choice((20.0, 50.0, 100.0)),
            "memory": rng.choice((256.0, 512.0, 1024.0)),
        }

    def write_handovers(self):
        rng = self.rng
        handovers, revisions, claims, artifacts, runs, checks, reviews, candidates = ([] for _ in range(8))
        for story in self.stories:
            label = f"{self.model_name[story.model]} {story.label}"
            handovers.append(
                (
                    story.pk,
                    story.model,
                    story.project,
                    story.label,
                    story.state,
                    story.owner,
                    story.reviewer,
                    story.created,
                    story.updated,
                    story.awaiting_since,
                    story.candidate_of is not None,
                    bool(story.candidate_of) and self.contract_rows[story.candidate_of][4],
                )
            )
            if story.candidate_of:
                candidates.append((self.rows.take(Candidate), story.candidate_of, story.pk, story.created))
                contract = self.contract_rows[story.candidate_of]
                self.event(
                    story.owner,
                    "contract.candidate_filed",
                    Contract,
                    story.candidate_of,
                    f"{contract[3]}",
                    story.project,
                    story.created,
                    handover=story.pk,
                )
            self.event(
                story.owner,
                "handover.created",
                Handover,
                story.pk,
                label,
                story.project,
                story.created,
                handover=story.pk,
                revision=1,
            )
            terms = story.terms
            metrics = TASK_METRICS[terms["task"]]
            for rev in story.revisions:
                revisions.append(
                    (
                        rev.pk,
                        story.pk,
                        rev.number,
                        story.owner,
                        rev.created,
                        rev.submitted,
                        story.owner if rev.submitted else None,
                        terms["task"],
                        "",
                        terms["framework"],
                        terms["version"],
                        terms["latency"],
                        1,
                        terms["memory"],
                        rng.randrange(10_000, 50_000_000),
                        None,
                        "onnx",
                        "Holdout of the last quarter.",
                        20_000,
                        "",
                        None,
                        "",
                        "Scores requests in the product.",
                        "Trained on one market.",
                        0.005,
                    )
                )
                claimed = {}
                for metric in metrics:
                    low = metric in ("mae", "rmse")
                    value = round(rng.uniform(0.5, 2.0) if low else rng.uniform(0.82, 0.97), 4)
                    claimed[metric] = value
                    claims.append(
                        (
                            self.rows.take(ClaimedMetric),
                            rev.pk,
                            metric,
                            value,
                            None if low else 0.8,
                            2.5 if low else None,
                        )
                    )
                if rev.number > 1:
                    self.event(
                        story.owner,
                        "handover.revised",
                        Handover,
                        story.pk,
                        label,
                        story.project,
                        rev.created,
                        handover=story.pk,
                        revision=rev.number,
                    )
                hashes = {}
                if rev.submitted:
                    for kind, name, size in (
                        ("model", "model.onnx", 4_200_000),
                        ("predictions", "predictions.csv", 380_000),
                        ("labels", "labels.csv", 160_000),
                    ):
                        sha = self.sha()
                        hashes[kind] = sha
                        artifacts.append(
                            (
                                self.rows.take(Artifact),
                                rev.pk,
                                kind,
                                f"volume/{story.project}/{story.pk}/r{rev.number}/{name}",
                                name,
                                size,
                                sha,
                                story.owner,
                                rev.created + (rev.submitted - rev.created) / 2,
                            )
                        )
                    self.event(
                        story.owner,
                        "handover.submitted",
                        Handover,
                        story.pk,
                        label,
                        story.project,
                        rev.submitted,
                        handover=story.pk,
                        revision=rev.number,
                    )
                    run_pk = self.rows.take(ValidationRun)
                    seconds = (
                        (rev.run_finished - rev.run_started).total_seconds() if rev.run_finished else None
                    )
                    runs.append(
                        (
                            run_pk,
                            rev.pk,
                            1,
                            rev.run_state,
                            story.owner,
                            rev.submitted,
                            rev.run_started,
                            rev.run_finished or rev.run_started,
                            rev.run_finished,
                            seconds,
                            "volume@worker" if rev.run_started else "",
                            None,
                            "",
                            1 if rev.run_started else 0,
                            "{}",
                            "{}",
                            "",
                        )
                    )
                    if rev.run_finished:
                        self.checks(checks, run_pk, rev, claimed, terms)
                        passed = rev.run_state == "passed"
                        self.event(
                            None,
                            "handover.validation_passed" if passed else "handover.validation_failed",
                            Handover,
                            story.pk,
                            label,
                            story.project,
                            rev.run_finished,
                            handover=story.pk,
                            revision=rev.number,
                        )
                if rev.decision:
                    review_pk = self.rows.take(Review)
                    accept = rev.decision == ReviewDecision.ACCEPT
                    comment = (
                        "" if accept else "Please add the fairness slices and re-run on the new holdout."
                    )
                    reviews.append(
                        (
                            review_pk,
                            rev.pk,
                            rev.reviewer,
                            rev.decision,
                            comment,
                            _dumps(hashes if accept else {}),
                            rev.reviewed,
                        )
                    )
                    self.event(
                        rev.reviewer,
                        "handover.accepted" if accept else "handover.changes_requested",
                        Handover,
                        story.pk,
                        label,
                        story.project,
                        rev.reviewed,
                        handover=story.pk,
                        revision=rev.number,
                        review=review_pk,
                    )
            if story.state == S.NOT_SELECTED:
                self.event(
                    None,
                    "handover.not_selected",
                    Handover,
                    story.pk,
                    label,
                    story.project,
                    story.updated,
                    handover=story.pk,
                )
        self.rows.write(
            Handover,
            [
                "id",
                "model_id",
                "project_id",
                "version_label",
                "state",
                "owner_id",
                "reviewer_id",
                "created_at",
                "updated_at",
                "awaiting_review_since",
                "is_candidate",
                "labels_blind",
            ],
            handovers,
        )
        del handovers
        self.rows.write(Candidate, ["id", "contract_id", "handover_id", "filed_at"], candidates)
        self.rows.write(
            Revision,
            [
                "id",
                "handover_id",
                "number",
                "created_by_id",
                "created_at",
                "submitted_at",
                "submitted_by_id",
                *TERM_FIELDS,  # the row tuples hold the terms in this order
            ],
            revisions,
        )
        del revisions
        self.rows.write(
            ClaimedMetric, ["id", "revision_id", "metric", "claimed_value", "minimum", "maximum"], claims
        )
        del claims
        self.rows.write(
            Artifact,
            [
                "id",
                "revision_id",
                "kind",
                "file",
                "original_name",
                "size",
                "sha256",
                "uploaded_by_id",
                "uploaded_at",
            ],
            artifacts,
        )
        del artifacts
        self.rows.write(
            ValidationRun,
            [
                "id",
                "revision_id",
                "number",
                "state",
                "requested_by_id",
                "created_at",
                "started_at",
                "heartbeat_at",
                "finished_at",
                "seconds",
                "worker",
                "worker_pid",
                "claim",
                "attempts",
                "progress",
                "environment",
                "message",
            ],
            runs,
        )
        del runs
        self.rows.write(
            CheckResult,
            [
                "id",
                "run_id",
                "key",
                "position",
                "status",
                "claimed",
                "measured",
                "tolerance",
                "limit",
                "unit",
                "message",
                "details",
            ],
            checks,
        )
        del checks
        self.rows.write(
            Review,
            ["id", "revision_id", "reviewer_id", "decision", "comment", "artifact_hashes", "created_at"],
            reviews,
        )

    def checks(self, checks, run_pk, rev, claimed, terms):
        rng = self.rng
        failing = set()
        if rev.run_state == "failed":
            which = self.pick(FAILING_CHECKS)
            failing.add(f"metric.{next(iter(claimed))}" if which == "metric" else which)
        position = 0
        for key in FIXED_CHECKS:
            status = "fail" if key in failing else "pass"
            measured = limit = None
            unit = ""
            if key == "runtime.latency_p95_ms":
                limit, unit = terms["latency"], "ms"
                measured = round(
                    limit * (rng.uniform(1.05, 1.6) if status == "fail" else rng.uniform(0.2, 0.9)), 2
                )
            elif key == "runtime.peak_memory_mb":
                limit, unit = terms["memory"], "MB"
                measured = round(limit * rng.uniform(0.2, 0.9), 1)
            checks.append(
                (
                    self.rows.take(CheckResult),
                    run_pk,
                    key,
                    position,
                    status,
                    None,
                    measured,
                    None,
                    limit,
                    unit,
                    "" if status == "pass" else f"{key} is out of bounds",
                    "{}",
                )
            )
            position += 1
        for metric, value in claimed.items():
            key = f"metric.{metric}"
            status = "fail" if key in failing else "pass"
            low = metric in ("mae", "rmse")
            measured = round(
                value
                + (
                    rng.uniform(0.05, 0.2) * (1 if low else -1)
                    if status == "fail"
                    else rng.uniform(-0.004, 0.004)
                ),
                4,
            )
            checks.append(
                (
                    self.rows.take(CheckResult),
                    run_pk,
                    key,
                    position,
                    status,
                    value,
                    measured,
                    0.005,
                    2.5 if low else 0.8,
                    "",
                    "" if status == "pass" else "measured below the claim",
                    "{}",
                )
            )
            position += 1

    # --- production: deployments, observations, incidents -------------------------------------

    def deployments(self):
        rng = self.rng
        rows = []
        self.production = []  # (deployment pk, story, from, until, business)
        for story in self.stories:
            if story.state not in (S.DEPLOYED, S.RETIRED):
                continue
            accepted = story.revisions[-1].pk
            engineer = story.revisions[-1].reviewer
            label = f"{self.model_name[story.model]} {story.label}"
            if story.state == S.DEPLOYED and rng.random() < 0.4:
                pk = self.rows.take(Deployment)
                at = story.deploy_at - self.hours(1, 24)
                rows.append(
                    (
                        pk,
                        story.project,
                        story.pk,
                        accepted,
                        "staging",
                        100,
                        "active",
                        at,
                        engineer,
                        None,
                        None,
                        "",
                        at,
                        None,
                        None,
                        None,
                        None,
                        "",
                    )
                )
                story.deployments.append(pk)
            pk = self.rows.take(Deployment)
            value = cost = set_by = set_at = None
            business = ""
            if story.state == S.DEPLOYED:
                status, ended, ended_by = DeploymentStatus.ACTIVE, None, None
                if rng.random() < 0.8:
                    value = Decimal(rng.randrange(2_000_00, 200_000_00)) / 100
                    cost = Decimal(rng.randrange(200_00, 20_000_00)) / 100
                    team = self.project_team[story.project]
                    set_by = rng.choice((self.pms[team], self.leaders[team]))
                    set_at = min(story.deploy_at + self.hours(1, 10 * 24), self.now)
                if rng.random() < 0.3:
                    business = "Approved revenue, € per hour"
            else:
                status = DeploymentStatus.ROLLED_BACK if rng.random() < 0.15 else DeploymentStatus.RETIRED
                ended, ended_by = story.end_at, engineer
            rows.append(
                (
                    pk,
                    story.project,
                    story.pk,
                    accepted,
                    "production",
                    100,
                    status,
                    story.deploy_at,
                    engineer,
                    ended,
                    ended_by,
                    "",
                    story.deploy_at,
                    value,
                    cost,
                    set_by,
                    set_at,
                    business,
                )
            )
            story.deployments.append(pk)
            self.production.append((pk, story, story.deploy_at, ended or self.now, business))
            self.event(
                engineer,
                "handover.deployed",
                Handover,
                story.pk,
                label,
                story.project,
                story.deploy_at,
                handover=story.pk,
                deployment=pk,
                environment="production",
            )
        self.rows.write(
            Deployment,
            [
                "id",
                "project_id",
                "handover_id",
                "revision_id",
                "environment",
                "traffic_share",
                "status",
                "deployed_at",
                "deployed_by_id",
                "ended_at",
                "ended_by_id",
                "notes",
                "created_at",
                "monthly_value",
                "monthly_cost",
                "value_set_by_id",
                "value_set_at",
                "business_metric_name",
            ],
            rows,
        )

    def observations(self):
        """Monitoring's batches for the deployments serving now, each window a few metrics."""
        rng = self.rng
        active = [d for d in self.production if d[1].state == S.DEPLOYED]
        total = self.plan["observations"] if active else 0
        batches, observation_rows = [], []
        share, extra = divmod(total, max(len(active), 1))
        for index, (deployment, story, since, until, business) in enumerate(active):
            count = share + (1 if index < extra else 0)
            metric = TASK_METRICS[story.terms["task"]][0]
            kinds = [metric, "latency_p95_ms"] + (["business"] if business else [])
            windows = max(1, math.ceil(count / len(kinds)))
            since = max(since, self.start)
            step = (until - since) / windows
            width = min(step, timedelta(hours=1))
            made = 0
            batch = None
            for w in range(windows):
                start = since + step * w
                end = start + width
                for kind in kinds:
                    if made == count:
                        break
                    if made % OBSERVATIONS_PER_BATCH == 0:
                        size = min(OBSERVATIONS_PER_BATCH, count - made)
                        batch = self.rows.take(MetricBatch)
                        received = min(
                            start + step * (OBSERVATIONS_PER_BATCH // len(kinds)) + width, self.now
                        )
                        batches.append(
                            (
                                batch,
                                deployment,
                                self.token[story.project],
                                received,
                                size,
                                received + timedelta(seconds=2),
                            )
                        )
                    if kind == "latency_p95_ms":
                        value = round(story.terms["latency"] * rng.uniform(0.3, 0.95), 2)
                    elif kind == "business":
                        value = round(rng.uniform(800, 1200), 2)
                    else:
                        value = round(
                            rng.uniform(0.85, 0.95)
                            if metric not in ("mae", "rmse")
                            else rng.uniform(0.5, 1.5),
                            4,
                        )
                    observation_rows.append(
                        (
                            self.rows.take(MetricObservation),
                            deployment,
                            batch,
                            kind,
                            value,
                            start,
                            end,
                            rng.randrange(500, 5000),
                        )
                    )
                    made += 1
        self.rows.write(
            MetricBatch, ["id", "deployment_id", "token_id", "received_at", "count", "evaluated_at"], batches
        )
        self.rows.write(
            MetricObservation,
            [
                "id",
                "deployment_id",
                "batch_id",
                "metric",
                "value",
                "window_start",
                "window_end",
                "sample_size",
            ],
            observation_rows,
        )

    def incidents(self):
        rng = self.rng
        rows, timeline = [], []
        production = self.production
        # Incidents fall on a deployment in proportion to how long it served.
        weights, running = [], 0.0
        for _, _, since, until, _ in production:
            running += max((until - since).total_seconds(), 3600)
            weights.append(running)
        active_metric = set()
        for _ in range(self.plan["incidents"] if production else 0):
            deployment, story, since, until, _ = rng.choices(production, cum_weights=weights)[0]
            opened = since + (until - since) * rng.random()
            severity = self.pick(SEVERITIES)
            project = story.project
            engineers = self.project_engineers[project]
            monitoring = rng.random() < 0.7
            metric = (
                rng.choice((TASK_METRICS[story.terms["task"]][0], "latency_p95_ms")) if monitoring else ""
            )
            # How far it got: old incidents are over; recent ones may still be worked.
            age = self.now - opened
            if age > timedelta(days=14):
                stop = IncidentStatus.CLOSED if rng.random() < 0.7 else IncidentStatus.RESOLVED
            else:
                stop = self.pick(
                    (
                        (IncidentStatus.OPEN, 0.15),
                        (IncidentStatus.ACKNOWLEDGED, 0.15),
                        (IncidentStatus.INVESTIGATING, 0.15),
                        (IncidentStatus.MITIGATED, 0.1),
                        (IncidentStatus.RESOLVED, 0.2),
                        (IncidentStatus.CLOSED, 0.25),
                    )
                )
            times = {}
            t = opened + self.minutes_lognormal(ACK_MINUTES[severity], 1.2)
            gaps = {
                IncidentStatus.ACKNOWLEDGED: None,
                IncidentStatus.INVESTIGATING: (2, 0.8),
                IncidentStatus.MITIGATED: (120, 1.0),
                IncidentStatus.RESOLVED: (180, 1.0),
                IncidentStatus.CLOSED: (24 * 60, 0.8),
            }
            status = IncidentStatus.OPEN
            for step in INCIDENT_STEPS:
                if status == stop:
                    break
                if gaps[step]:
                    t += self.minutes_lognormal(*gaps[step])
                if t > self.now:
                    break
                times[step] = t
                status = step
            active = status not in (IncidentStatus.RESOLVED, IncidentStatus.CLOSED)
            if active and metric:
                if (deployment, metric) in active_metric:
                    metric = ""
                else:
                    active_metric.add((deployment, metric))
            sla = timedelta(minutes=SLA_MINUTES[severity])
            acked = times.get(IncidentStatus.ACKNOWLEDGED)
            escalated = opened + sla if (acked or self.now) - opened > sla else None
            pk = self.rows.take(Incident)
            assignee = rng.choice(engineers) if acked else None
            reporter = None if monitoring else rng.choice(self.project_scientists[project] + engineers)
            resolved = times.get(IncidentStatus.RESOLVED)
            title = (
                f"{metric} breached on {self.model_name[story.model]}"
                if metric
                else f"Complaints about {self.model_name[story.model]} predictions"
            )
            limit_kind = (
                (
                    "budget"
                    if metric == "latency_p95_ms"
                    else "maximum"
                    if metric in ("mae", "rmse")
                    else "minimum"
                )
                if metric
                else ""
            )
            limit = (story.terms["latency"] if metric == "latency_p95_ms" else 0.8) if metric else None
            observed = (
                (
                    round(limit * rng.uniform(1.1, 2.0), 2)
                    if metric == "latency_p95_ms"
                    else round(rng.uniform(0.6, 0.79), 4)
                )
                if metric
                else None
            )
            updated = max([opened, *times.values(), *([escalated] if escalated else [])])
            rows.append(
                (
                    pk,
                    project,
                    deployment,
                    story.revisions[-1].pk,
                    story.pk,
                    title,
                    "Seen by monitoring." if monitoring else "Reported by the product team.",
                    severity,
                    status,
                    metric,
                    limit_kind,
                    limit,
                    observed,
                    reporter,
                    assignee,
                    story.owner,
                    opened,
                    acked,
                    times.get(IncidentStatus.INVESTIGATING),
                    times.get(IncidentStatus.MITIGATED),
                    resolved,
                    times.get(IncidentStatus.CLOSED),
                    None,
                    escalated,
                    rng.choice(ROOT_CAUSES) if resolved else "",
                    "Retrained on the last month." if resolved else "",
                    "",
                    None,
                    updated,
                )
            )
            label = f"#{pk} {title}"
            timeline.append(
                (
                    self.rows.take(TimelineEvent),
                    pk,
                    EventKind.OPENED,
                    reporter,
                    opened,
                    "",
                    _dumps({"severity": severity}),
                )
            )
            self.event(reporter, "incident.opened", Incident, pk, label, project, opened, severity=severity)
            if escalated:
                timeline.append(
                    (
                        self.rows.take(TimelineEvent),
                        pk,
                        EventKind.ESCALATED,
                        None,
                        escalated,
                        "",
                        _dumps({"sla": True}),
                    )
                )
                self.event(None, "incident.escalated", Incident, pk, label, project, escalated, sla=True)
            previous = IncidentStatus.OPEN
            for step in INCIDENT_STEPS:
                if step not in times:
                    break
                if step == IncidentStatus.ACKNOWLEDGED:
                    timeline.append(
                        (
                            self.rows.take(TimelineEvent),
                            pk,
                            EventKind.ASSIGNED,
                            assignee,
                            times[step],
                            "",
                            _dumps({"assignee": self.username[assignee]}),
                        )
                    )
                timeline.append(
                    (
                        self.rows.take(TimelineEvent),
                        pk,
                        EventKind.STATUS,
                        assignee,
                        times[step],
                        "",
                        _dumps({"source": previous, "target": step}),
                    )
                )
                transition = {
                    "acknowledged": "acknowledge",
                    "investigating": "investigate",
                    "mitigated": "mitigate",
                    "resolved": "resolve",
                    "closed": "close",
                }[step]
                self.event(
                    assignee,
                    f"incident.{transition}",
                    Incident,
                    pk,
                    label,
                    project,
                    times[step],
                    from_status=previous,
                    to_status=step,
                )
                previous = step
            if acked and rng.random() < 0.3:
                timeline.append(
                    (
                        self.rows.take(TimelineEvent),
                        pk,
                        EventKind.COMMENT,
                        assignee,
                        acked + timedelta(minutes=5),
                        "Looking at the last batches.",
                        "{}",
                    )
                )
        self.rows.write(
            Incident,
            [
                "id",
                "project_id",
                "deployment_id",
                "revision_id",
                "handover_id",
                "title",
                "description",
                "severity",
                "status",
                "metric",
                "limit_kind",
                "limit_value",
                "observed_value",
                "reporter_id",
                "assignee_id",
                "owner_id",
                "opened_at",
                "acknowledged_at",
                "investigating_at",
                "mitigated_at",
                "resolved_at",
                "closed_at",
                "reopened_at",
                "escalated_at",
                "root_cause",
                "resolution_summary",
                "postmortem",
                "fix_handover_id",
                "updated_at",
            ],
            rows,
        )
        self.rows.write(
            TimelineEvent,
            ["id", "incident_id", "kind", "actor_id", "created_at", "body", "details"],
            timeline,
        )

    def write_audit(self):
        self.rows.write(
            AuditEvent,
            [
                "id",
                "actor_id",
                "verb",
                "target_type_id",
                "target_id",
                "target_repr",
                "project_id",
                "created_at",
                "details",
            ],
            self.audit,
        )


FILLED = (
    User,
    Team,
    Project,
    RoleAssignment,
    IngestionToken,
    Model,
    Contract,
    Requirement,
    ContractArtifact,
    ContractSignature,
    Handover,
    Candidate,
    Revision,
    ClaimedMetric,
    Artifact,
    ValidationRun,
    CheckResult,
    Review,
    Deployment,
    MetricBatch,
    MetricObservation,
    Incident,
    TimelineEvent,
    AuditEvent,
)


def _foreign_keys(tables):
    """PostgreSQL's foreign keys of ``tables``: [(table, name, definition)]."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])",
            [list(tables)],
        )
        return cursor.fetchall()


def generate(scale=1.0, seed=16, out=print):
    """Fill the database with the volume at ``scale``; returns {model name: rows written}.

    Everything is written in one transaction: a run that fails leaves nothing."""
    volume = Volume(scale, seed, out)
    out("Plan: " + ", ".join(f"{n:,} {name}" for name, n in volume.plan.items()))
    postgres = connection.vendor == "postgresql"
    with transaction.atomic():
        keys = []
        if postgres:
            # Checked once per constraint when added back, in one join, not once per row.
            keys = _foreign_keys(model._meta.db_table for model in FILLED)
            with connection.cursor() as cursor:
                for table, name, _definition in keys:
                    cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        volume.people()
        volume.models()
        volume.contracts()
        volume.handovers()
        volume.write_handovers()
        volume.deployments()
        volume.observations()
        volume.incidents()
        volume.write_audit()
        with connection.cursor() as cursor:
            for table, name, definition in keys:
                cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            volume.rows.mark(f"foreign keys checked ({len(keys)})")
            for statement in connection.ops.sequence_reset_sql(no_style(), FILLED):
                cursor.execute(statement)
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        volume.rows.mark("ANALYZE")
    return {model.__name__: n for model, n in volume.rows.written.items()}
