"""Reference OPD consumer (see docs/integrators.md)."""
