"""The Etalase end-to-end demo: `uv run python -m demo` (after `make services`).

A fiscal year of procurement in Kota Pekalongan (33.75), Kabupaten Pekalongan (33.26) and Kota
Semarang (33.74), played only through the four services' public HTTP APIs: OPD budgets, vendors
registered at MPP desks and online (some refused for a bad NIB or NPWP, some suspended), products
in the national, sectoral and local catalogues and the online shop with their TKDN and BMP, then
orders placed, accepted, completed and cancelled quarter by quarter.

It ends with the P3DN compliance report from the reporting API, per OPD and per region, and sets
it beside its own computation of the same figures from what it did (`demo.compliance`, written
from compliance.md apart from the reporting service): they must agree to the rupiah.

Modules: `world` plans (pure, deterministic by seed: `model`, `supply`, `demand`, with the data in
`catalogue`, `places`, `names`, `identifiers`); `registry`, `changes`, `orders` and `rules` play
the plan through `api`, recording into `ledger`; `sync` waits for events to propagate;
`compliance` recomputes the figures; `report` and `summary` print and compare; `scenario` runs it.
"""
