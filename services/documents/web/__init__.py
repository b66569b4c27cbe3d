"""Static files of the web inbox (served by services/documents/inbox_page.py)."""
