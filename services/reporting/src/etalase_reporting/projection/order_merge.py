"""How a batch of order events changes the order facts and the per-day deltas: one SQL statement.

The batch arrives in `order_changes` (a temporary table filled by COPY): at most one row per
order, holding for each stage (placed, accepted, completed, cancelled) the batch's event with the
lowest (sequence, event id). The statement merges those rows into `order_facts` by the same rule —
for each stage the lowest (sequence, event id) wins, whichever arrived first — sets the order's
days by `domain.DAY_RULES`, and adds to `compliance_deltas` what the changed facts contribute now
minus what they contributed before: on each of its days, what the rule of that day adds to the
placed measures and flags (`p_*`) and to the realised ones (`r_*`), and one more event
(`activity`). Nothing about an order counts before its OrderPlaced has arrived.

The figures as of a day are the sums of the deltas up to that day. Doing this in PostgreSQL keeps
a batch to the same few round trips however many orders it holds, and the arithmetic out of the
consumer's Python, which decoding already keeps busy; the property test checks it against an
independent recomputation.
"""

from etalase_reporting import tables
from etalase_reporting.domain import DAY_RULES, FLAGS, MEASURES, STAGES, DayRule
from etalase_reporting.timeline import WIB_OFFSET

PLACEMENT = (
    "fiscal_year",
    "opd_code",
    "region_code",
    *MEASURES[1:],
    "reserved_package_violation",
    "pdn_substitution_lines",
    "flagged_lines",
)
"""What an order's OrderPlaced says about it; it comes with the placed stage that won.
`flagged_lines` (JSON) are its substitution lines with the alternatives they passed over, shown
by the provenance endpoint and summed nowhere."""
STAMP = ("event_id", "sequence", "at")
FACT_COLUMNS = tuple(column.name for column in tables.order_facts.columns)
DAY_COLUMNS = tuple(rule.column for rule in DAY_RULES)
CHANGE_COLUMNS = tuple(name for name in FACT_COLUMNS if name not in DAY_COLUMNS)
"""The columns of `order_changes` that a batch fills (the day columns stay empty)."""

_WIB_DAY = f"(({{}}) AT TIME ZONE INTERVAL '{int(WIB_OFFSET.total_seconds())} seconds')::date"
"""The WIB day of a timestamp, as `timeline.wib_day` computes it."""


def _wins(stage: str) -> str:
    """The incoming event of `stage` beats the stored one (byte order, as Python compares)."""
    seq, eid = f"{stage}_sequence", f"{stage}_event_id"
    return (
        f'(i.{eid} IS NOT NULL AND (o.{eid} IS NULL OR (i.{seq}, i.{eid} COLLATE "C")'
        f' < (o.{seq}, o.{eid} COLLATE "C")))'
    )


def _merged_columns() -> str:
    columns = ["i.order_id"]
    for stage in STAGES:
        stamp = tuple(f"{stage}_{part}" for part in STAMP)
        taken = (*PLACEMENT, *stamp) if stage == "placed" else stamp
        columns += [f"CASE WHEN {_wins(stage)} THEN i.{c} ELSE o.{c} END AS {c}" for c in taken]
    return ", ".join(columns)


def _day(rule: DayRule) -> str:
    needed = " AND ".join(
        f"{stage}_event_id IS NOT NULL" for stage in dict.fromkeys(("placed", rule.stage))
    )
    moments = ", ".join(f"{stage}_at" for stage in rule.of)
    moment = moments if len(rule.of) == 1 else f"greatest({moments})"
    return f"CASE WHEN {needed} THEN {_WIB_DAY.format(moment)} END AS {rule.column}"


def _delta_sums() -> list[tuple[str, str]]:
    """(delta column, its sum over the signed contributions of a day)."""
    amounts = dict(zip(MEASURES, ["1", *MEASURES[1:]], strict=True))
    flags = dict(
        zip(FLAGS, ("reserved_package_violation::int", "pdn_substitution_lines"), strict=True)
    )
    return [
        ("activity", "sum(sign)"),
        *((f"p_{name}", f"sum(sign * placed * {amount})") for name, amount in amounts.items()),
        *((f"r_{name}", f"sum(sign * realized * {amount})") for name, amount in amounts.items()),
        *((flag, f"sum(sign * placed * {value})") for flag, value in flags.items()),
    ]


def create_changes_table(schema: str) -> str:
    """Run in every batch, it creates the table once per connection (later runs find it) and
    every commit empties it. Made and dropped per batch instead, it cost catalog writes and a new
    plan of the merge statement each time (its table a new one). Kept across a rollback only if
    created before it, so a failed first batch cannot leave a connection without it."""
    return (
        f"CREATE TEMPORARY TABLE IF NOT EXISTS order_changes (LIKE {schema}.order_facts)"
        " ON COMMIT DELETE ROWS"
    )


def merge_statement(schema: str) -> str:
    """Consumes `order_changes`: merges it into the facts and adds the deltas it causes."""
    facts = ", ".join(FACT_COLUMNS)
    stage_ids = ", ".join(f"{{0}}.{stage}_event_id" for stage in STAGES)
    sums = _delta_sums()
    delta_names = ", ".join(name for name, _ in sums)
    nonzero = " OR ".join(f"{name} <> 0" for name, _ in sums)
    signed = ", ".join(("order_id", *PLACEMENT, "placed_event_id", *DAY_COLUMNS))
    effects = [f"({r.placed}, {r.realized}, s.{r.column})" for r in DAY_RULES]
    return f"""
WITH incoming AS (DELETE FROM pg_temp.order_changes RETURNING *),
old AS (
    SELECT {facts} FROM {schema}.order_facts
    WHERE order_id = ANY(ARRAY(SELECT order_id FROM incoming))),
merged AS (
    SELECT {_merged_columns()}
    FROM incoming i LEFT JOIN old o ON o.order_id = i.order_id),
new AS (SELECT *, {", ".join(_day(rule) for rule in DAY_RULES)} FROM merged),
changed AS (
    SELECT n.* FROM new n LEFT JOIN old o ON o.order_id = n.order_id
    WHERE o.order_id IS NULL OR ({stage_ids.format("n")}) IS DISTINCT FROM
        ({stage_ids.format("o")})),
written AS (
    INSERT INTO {schema}.order_facts ({facts})
    SELECT {facts} FROM changed ORDER BY order_id
    ON CONFLICT (order_id) DO UPDATE SET
        {", ".join(f"{c} = excluded.{c}" for c in FACT_COLUMNS[1:])}),
signed AS (
    SELECT 1 AS sign, {signed} FROM changed
    UNION ALL
    SELECT -1, {signed} FROM old WHERE order_id IN (SELECT order_id FROM changed)),
contributions AS (
    SELECT s.*, v.placed, v.realized, v.day FROM signed s
    CROSS JOIN LATERAL (VALUES {", ".join(effects)}) AS v(placed, realized, day)
    WHERE s.placed_event_id IS NOT NULL AND v.day IS NOT NULL),
deltas AS (
    SELECT fiscal_year, opd_code, day, min(region_code) AS region_code,
        {", ".join(f"{expression} AS {name}" for name, expression in sums)}
    FROM contributions GROUP BY fiscal_year, opd_code, day)
INSERT INTO {schema}.compliance_deltas AS d (fiscal_year, opd_code, day, region_code,
    {delta_names})
SELECT fiscal_year, opd_code, day, region_code, {delta_names} FROM deltas
WHERE {nonzero}
ORDER BY fiscal_year, opd_code, day
ON CONFLICT (fiscal_year, opd_code, day) DO UPDATE SET
    {", ".join(f"{name} = d.{name} + excluded.{name}" for name, _ in sums)}
"""
