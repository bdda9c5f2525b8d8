"""CRM use cases: import exports, upsert opportunities, stage history, stuck deals."""
