"""CRM data in the core: CSV and vendor export readers, records, stage resolution, stuck deals."""
