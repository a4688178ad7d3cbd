"""Projection: the projectors that fold events into the tables of one generation's schema, and
the registry of which projector reads which topics (`registry`)."""
