"""memoflow's benchmarks: one entry point, ``python -m benchmarks run [--quick]``.

Sections (benchmarks/RESULTS.md has the figures, the commands and the machine):

- ``engine``: full memo lifecycles through the workflow verbs, each step a durable
  transaction with its audit event, against the raw INSERT+COMMIT rate of the same
  database, measured side by side; 1 and 16 clients, one organisation and two.
- ``http``: ``memoflow serve`` with 4 workers under wrk (or a Python load generator):
  GET inbox, GET memo, POST endorse at 32 connections, against a bare Flask hello world
  served with the same gunicorn settings; resident memory per worker after the load.
- ``scaling``: inbox and memo latency with 1k, 10k, 100k (1M with ``--sizes``) memos
  stored, audit verification throughput at each size, EXPLAIN of the read queries.
- ``peers`` (not run by default: ``--sections engine,peers``): the same route, one audit
  row per step, each step durable, in django-fsm-2 and in SpiffWorkflow on a SQLite file,
  against the raw INSERT+COMMIT rate of that file (benchmarks/peers.py; the optional extra
  ``bench``).

Nothing here runs in the test suite except the tiny smoke test
(tests/test_benchmarks_smoke.py).
"""
