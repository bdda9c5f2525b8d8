"""Use cases shared by the UI, the API and the CLI. Services commit; views and commands don't.

Each module is one area: ``library`` (ingest, search), ``crm`` (import, opportunities, stuck
deals), ``recommendations`` (rank, log, share links, rules), ``events``, ``learning`` (train,
influence, gaps, policy evaluation), ``accounts`` (users, API keys), ``demo``.
"""
