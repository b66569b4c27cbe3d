"""Static files of the Department's dashboard (served by services/analytics/dashboard.py)."""
