"""`make chaos`: fault injection under order load on a private stack, checked against the load
generator's own ledger (see README, "Chaos run")."""
