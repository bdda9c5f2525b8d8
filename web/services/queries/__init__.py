"""Read models of the lists UI and API show: one query per list, shared by both."""
