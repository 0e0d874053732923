"""(e) Peers: the memo route in other Python workflow libraries, against the raw
durable-commit rate of the same SQLite file, measured side by side in the same run.

Each peer drives memo after memo through create, then submit, endorse, endorse, sign
(draft → head of office → permanent secretary → mayor → signed): five transactions, each
with one audit row (memo, action, from and to state, actor, time), each committed durably
on its own, from one client. The database is a SQLite file in WAL mode with
synchronous=FULL, BEGIN IMMEDIATE — the settings of benchmarks/common.py connect_sqlite and
of the raw INSERT+COMMIT loop (benchmarks/engine.py), which runs on the same file right
before and right after each peer.

- django-fsm-2: a Memo model with an FSMField and ``@transition`` methods, an AuditEvent
  model; each step in ``transaction.atomic()`` loads the memo, calls the transition, saves
  it and creates the audit row.
- SpiffWorkflow: a BPMN process of four user tasks, parsed once; the workflow is stored
  serialized (the library's JSON) in the memo's row; each step loads it, checks that the
  ready task is the expected one, completes it, stores it back and inserts the audit row,
  in plain sqlite3.

Each peer runs in a process of its own (``python -m benchmarks.peers PEER FILE SECONDS``),
so that Django's process-wide settings never reach memoflow's process. The libraries are
the optional extra ``bench`` (``pip install -e '.[bench]'``); a peer that is not installed
is reported as skipped.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.common import Table, Target, connect_sqlite, sqlite_path, sqlite_target
from benchmarks.dataset import MEMO_FIELDS
from benchmarks.engine import (
    COMMITS_PER_MEMO,
    RATE_COLUMNS,
    TRANSITIONS_PER_MEMO,
    _create_raw_table,
    _raw_rate,
    rate_cells,
)

REPO = Path(__file__).resolve().parent.parent

# The default route (workflow/routes/default.json) as memoflow names its states:
# (action, from state, to state, actor written in the audit row).
ROUTE = (
    ("submit", "draft", "pending_head_of_office", "นางสาวสุดา ใจดี"),
    ("endorse", "pending_head_of_office", "pending_permanent_secretary", "นายสมชาย รักงาน"),
    ("endorse", "pending_permanent_secretary", "pending_mayor", "นายประเสริฐ มั่นคง"),
    ("sign", "pending_mayor", "signed", "นายวิชัย ศรีสุข"),
)
AUTHOR = ROUTE[0][3]
SUBJECT = MEMO_FIELDS["subject"]
BODY = MEMO_FIELDS["facts"] + MEMO_FIELDS["proposal"]

# Peer name: the distributions it needs (the first one's version names the peer).
PEERS = {
    "django-fsm-2": ("django-fsm-2", "Django"),
    "SpiffWorkflow": ("SpiffWorkflow",),
}


# --- the parent: raw rate, peer, raw rate -----------------------------------------------


def missing_distributions(peer: str) -> list[str]:
    """The distributions of ``peer`` that are not installed."""
    missing = []
    for distribution in PEERS[peer]:
        try:
            importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            missing.append(distribution)
    return missing


def _described(peer: str) -> str:
    versions = [f"{d} {importlib.metadata.version(d)}" for d in PEERS[peer]]
    return versions[0] + (f" ({', '.join(versions[1:])})" if versions[1:] else "")


def _remove_sqlite_files(target: Target) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{sqlite_path(target)}{suffix}").unlink(missing_ok=True)


def _run_peer(peer: str, target: Target, seconds: float) -> dict[str, float]:
    """The peer's client in a fresh Python process; its counters come back as JSON."""
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.peers", peer, sqlite_path(target), str(seconds)],
        cwd=REPO,  # ``-m`` puts the working directory first on sys.path
        capture_output=True,
        text=True,
        timeout=seconds + 300,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"the {peer} client failed:\n{completed.stderr[-3000:]}")
    result: dict[str, float] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def run(workdir: Path, seconds: float, keep: bool = False) -> Table:
    table = Table(
        "e) Peers: the same route in other workflow libraries vs the raw durable-commit rate"
        " (same SQLite file, same run)",
        ["peer", "clients", *RATE_COLUMNS],
    )
    for peer in PEERS:
        missing = missing_distributions(peer)
        if missing:
            skipped = f"skipped: {', '.join(missing)} not installed (pip install -e '.[bench]')"
            table.add(peer, 1, skipped, "", "", "", "", "", "")
            print(f"peers: {peer} {skipped}", file=sys.stderr, flush=True)
            continue
        target = sqlite_target(workdir, "peers_" + peer.lower().replace("-", "_"))
        _remove_sqlite_files(target)
        _create_raw_table(target)
        # The raw rate right before and right after, as in (a): fsync costs drift with
        # whatever else the disk is doing, so the ratio uses the mean of its own two.
        before = _raw_rate(target, 1, seconds / 2)
        result = _run_peer(peer, target, seconds)
        after = _raw_rate(target, 1, seconds / 2)
        table.add(_described(peer), 1, *rate_cells(result, before, after))
        if not keep:
            _remove_sqlite_files(target)
    table.notes.append(
        f"A lifecycle = create, submit, endorse, endorse, sign: {COMMITS_PER_MEMO} durable"
        f" transactions with one audit row each (memo, action, from/to state, actor name,"
        f" time), {TRANSITIONS_PER_MEMO} of them transitions; one client, a {seconds:g} s"
        " window, on a SQLite file in WAL mode with synchronous=FULL and BEGIN IMMEDIATE."
        f" Raw = the INSERT+COMMIT loop of (a) on the same file, {seconds / 2:g} s right before"
        " and right after; the ratios use their mean. Compare with the 1-client row of (a)."
        " A step costs at least one durable commit and a lifecycle has"
        f" {COMMITS_PER_MEMO} commits for {TRANSITIONS_PER_MEMO} transitions, so with one"
        f" client transitions ÷ raw stays below about {TRANSITIONS_PER_MEMO / COMMITS_PER_MEMO:g}."
        " The peers write plain audit rows and nothing else; memoflow's steps also check"
        " permissions, write the opinion, chain the audit hash and (at submission) take a"
        " register number."
    )
    table.notes.append(
        "django-fsm-2: Django's ORM, the memo loaded, transitioned and saved (all columns),"
        " the audit row created, in transaction.atomic() (OPTIONS transaction_mode"
        " IMMEDIATE, init_command for the pragmas). SpiffWorkflow: a four-user-task BPMN"
        " process parsed once; the workflow serialized with BpmnWorkflowSerializer (its"
        " default JSON, spec included, about 7 KB) in the memo row, deserialized, the ready"
        " task run, serialized back, in plain sqlite3."
    )
    return table


# --- the children: one peer each, in its own process ------------------------------------


def _lifecycles(
    create: Callable[[], int],
    step: Callable[[int, str, str, str, str], None],
    seconds: float,
) -> dict[str, float]:
    """Memo after memo through ``create`` and the route's steps for ``seconds``, after three
    to warm up; counted as benchmarks/engine.py lifecycle_client counts them."""

    def lifecycle(deadline: float | None) -> tuple[int, int, int]:
        """Returns (memos, transitions, commits) completed before ``deadline``."""
        commits = 0

        def counted() -> None:
            nonlocal commits
            if deadline is None or time.perf_counter() <= deadline:
                commits += 1

        memo_id = create()
        counted()
        for action, source, target, actor in ROUTE:
            step(memo_id, action, source, target, actor)
            counted()
        return int(commits == COMMITS_PER_MEMO), max(0, commits - 1), commits

    for _ in range(3):
        lifecycle(None)
    began = time.perf_counter()
    deadline = began + seconds
    cpu = time.process_time()
    totals = [0, 0, 0]
    while time.perf_counter() < deadline:
        for index, value in enumerate(lifecycle(deadline)):
            totals[index] += value
    return {
        "memos": totals[0],
        "transitions": totals[1],
        "commits": totals[2],
        "cpu": time.process_time() - cpu,
        "wall": time.perf_counter() - began,
    }


PRAGMAS = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 30000"


def django_fsm_client(path: str, seconds: float) -> dict[str, float]:
    """django-fsm-2 on a Django configured here, in code, for this process only."""
    import django
    from django.conf import settings

    settings.configure(
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": path,
                # Django 5.1+: BEGIN IMMEDIATE for atomic(), and the pragmas of
                # connect_sqlite on every new connection.
                "OPTIONS": {"transaction_mode": "IMMEDIATE", "init_command": PRAGMAS},
            }
        },
        # The benchmarks package is the app that the models below belong to; it has no
        # models module, so nothing else is loaded.
        INSTALLED_APPS=["benchmarks"],
        USE_TZ=True,
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
    )
    django.setup()

    from django.db import connection, models, transaction
    from django.utils import timezone
    from django_fsm import FSMField, transition

    # Models can only be declared once the app registry is ready, hence here.
    class Memo(models.Model):
        subject = models.CharField(max_length=500)
        body = models.TextField()
        state = FSMField(default="draft")

        class Meta:
            # Explicit, as this module runs as __main__ in the client's process.
            app_label = "benchmarks"
            db_table = "peer_django_memo"

        @transition(field=state, source="draft", target="pending_head_of_office")
        def submit(self) -> None:
            pass

        @transition(
            field=state, source="pending_head_of_office", target="pending_permanent_secretary"
        )
        @transition(field=state, source="pending_permanent_secretary", target="pending_mayor")
        def endorse(self) -> None:
            pass

        @transition(field=state, source="pending_mayor", target="signed")
        def sign(self) -> None:
            pass

    class AuditEvent(models.Model):
        memo = models.ForeignKey(Memo, on_delete=models.PROTECT)
        action = models.CharField(max_length=20)
        from_state = models.CharField(max_length=40, null=True)
        to_state = models.CharField(max_length=40)
        actor = models.CharField(max_length=200)
        at = models.DateTimeField()

        class Meta:
            app_label = "benchmarks"
            db_table = "peer_django_audit_event"

    with connection.schema_editor() as editor:
        editor.create_model(Memo)
        editor.create_model(AuditEvent)

    def create() -> int:
        with transaction.atomic():
            memo = Memo.objects.create(subject=SUBJECT, body=BODY)
            AuditEvent.objects.create(
                memo=memo, action="create", to_state=memo.state, actor=AUTHOR, at=timezone.now()
            )
        return int(memo.pk)

    def step(memo_id: int, action: str, source: str, target: str, actor: str) -> None:
        with transaction.atomic():
            memo = Memo.objects.get(pk=memo_id)
            from_state = memo.state
            getattr(memo, action)()
            memo.save()
            AuditEvent.objects.create(
                memo=memo,
                action=action,
                from_state=from_state,
                to_state=memo.state,
                actor=actor,
                at=timezone.now(),
            )
        if (from_state, memo.state) != (source, target):
            raise RuntimeError(f"{action}: {from_state} → {memo.state}, not {source} → {target}")

    return _lifecycles(create, step, seconds)


# Four user tasks in a row; each task's id is the state in which the memo waits for it, so
# the memo's state is the id of its ready task ("signed" once the process has ended).
MEMO_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    id="memo_definitions" targetNamespace="https://example.invalid/memoflow">
  <bpmn:process id="memo_route" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="to_draft" sourceRef="start" targetRef="draft"/>
    <bpmn:userTask id="draft" name="submit"/>
    <bpmn:sequenceFlow id="to_head" sourceRef="draft" targetRef="pending_head_of_office"/>
    <bpmn:userTask id="pending_head_of_office" name="endorse"/>
    <bpmn:sequenceFlow id="to_palad" sourceRef="pending_head_of_office"
        targetRef="pending_permanent_secretary"/>
    <bpmn:userTask id="pending_permanent_secretary" name="endorse"/>
    <bpmn:sequenceFlow id="to_mayor" sourceRef="pending_permanent_secretary"
        targetRef="pending_mayor"/>
    <bpmn:userTask id="pending_mayor" name="sign"/>
    <bpmn:sequenceFlow id="to_signed" sourceRef="pending_mayor" targetRef="signed"/>
    <bpmn:endEvent id="signed"/>
  </bpmn:process>
</bpmn:definitions>
"""


@contextlib.contextmanager
def _immediate(connection: sqlite3.Connection) -> Iterator[None]:
    """One BEGIN IMMEDIATE … COMMIT transaction; rolled back on any exception."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def spiff_client(path: str, seconds: float) -> dict[str, float]:
    """SpiffWorkflow with the workflow stored serialized in the memo's row."""
    from SpiffWorkflow.bpmn import BpmnWorkflow
    from SpiffWorkflow.bpmn.parser import BpmnParser
    from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
    from SpiffWorkflow.util.task import TaskState

    parser = BpmnParser()
    parser.add_bpmn_str(MEMO_BPMN.encode())
    spec = parser.get_spec("memo_route")
    serializer = BpmnWorkflowSerializer()

    def state_of(workflow: Any) -> str:
        if workflow.is_completed():
            return "signed"
        return str(workflow.get_next_task(state=TaskState.READY, manual=True).task_spec.bpmn_id)

    lite = connect_sqlite(Target("sqlite", f"sqlite:///{path}", ""))
    lite.execute(
        "CREATE TABLE peer_spiff_memo (id INTEGER PRIMARY KEY, subject TEXT NOT NULL,"
        " body TEXT NOT NULL, state TEXT NOT NULL, workflow TEXT NOT NULL)"
    )
    lite.execute(
        "CREATE TABLE peer_spiff_audit_event (id INTEGER PRIMARY KEY,"
        " memo_id INTEGER NOT NULL REFERENCES peer_spiff_memo (id), action TEXT NOT NULL,"
        " from_state TEXT, to_state TEXT NOT NULL, actor TEXT NOT NULL, at TEXT NOT NULL)"
    )
    audit = (
        "INSERT INTO peer_spiff_audit_event (memo_id, action, from_state, to_state, actor, at)"
        " VALUES (?, ?, ?, ?, ?, ?)"
    )

    def create() -> int:
        with _immediate(lite):
            workflow = BpmnWorkflow(spec)
            workflow.do_engine_steps()
            state = state_of(workflow)
            memo_id = lite.execute(
                "INSERT INTO peer_spiff_memo (subject, body, state, workflow) VALUES (?, ?, ?, ?)",
                (SUBJECT, BODY, state, serializer.serialize_json(workflow)),
            ).lastrowid
            lite.execute(
                audit, (memo_id, "create", None, state, AUTHOR, datetime.now(UTC).isoformat())
            )
        return int(memo_id or 0)

    def step(memo_id: int, action: str, source: str, target: str, actor: str) -> None:
        with _immediate(lite):
            (stored,) = lite.execute(
                "SELECT workflow FROM peer_spiff_memo WHERE id = ?", (memo_id,)
            ).fetchone()
            workflow = serializer.deserialize_json(stored)
            task = workflow.get_next_task(state=TaskState.READY, manual=True)
            if task is None or task.task_spec.bpmn_name != action:
                raise RuntimeError(f"{action} is not the ready task of memo {memo_id}")
            from_state = state_of(workflow)
            task.run()
            workflow.do_engine_steps()
            to_state = state_of(workflow)
            lite.execute(
                "UPDATE peer_spiff_memo SET state = ?, workflow = ? WHERE id = ?",
                (to_state, serializer.serialize_json(workflow), memo_id),
            )
            lite.execute(
                audit,
                (memo_id, action, from_state, to_state, actor, datetime.now(UTC).isoformat()),
            )
        if (from_state, to_state) != (source, target):
            raise RuntimeError(f"{action}: {from_state} → {to_state}, not {source} → {target}")

    result = _lifecycles(create, step, seconds)
    lite.close()
    return result


CLIENTS = {"django-fsm-2": django_fsm_client, "SpiffWorkflow": spiff_client}


def main(argv: list[str]) -> int:
    """``python -m benchmarks.peers PEER FILE SECONDS``: one peer's client; prints its
    counters as one line of JSON."""
    peer, path, seconds = argv
    print(json.dumps(CLIENTS[peer](path, float(seconds))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
