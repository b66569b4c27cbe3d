"""WHO LMS growth tables (data only, see SOURCE.md), read by ``..growth``."""
