"""memoflow's Alembic environment: env.py, the revision template and versions/.

Run through :mod:`models.migrate` (``memoflow db ...``); see docs/migrations.md.
"""
