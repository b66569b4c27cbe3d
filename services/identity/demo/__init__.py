"""Demo reference data for the identity service (Hải Phòng commune-level units, 2025)."""
