"""Use cases shared by the UI, the API and the CLI.

One transaction rule: a service commits its own unit of work (bulk jobs such as ingest and the
CRM import commit per asset or batch, so one bad row fails alone; a restore is one unit), a
read-only function never commits, and callers never commit for a service.

Each package is one area: ``content`` (ingest, edits, tagging, search), ``crm`` (import,
opportunities, stuck deals), ``ranking`` (recommendations, rules), ``learning`` (train,
analytics, policy evaluation), ``queries`` (read models of the UI and API lists); and the
modules ``events``, ``sharing``, ``accounts``, ``content_requests``, ``backup``, ``demo``.
"""
