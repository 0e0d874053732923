"""memoflow's rules: routes, the state machine, authorisation, the audit chain and the
number register. No Flask: usable from a script, the CLI, a test or a web view alike.

The verb functions in ``workflow.actions`` are the service API; they flush, never commit.
"""
