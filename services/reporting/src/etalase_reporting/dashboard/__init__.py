"""The compliance dashboard served by reporting at /dashboard (docs/dashboard.md)."""
