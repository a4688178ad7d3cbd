"""The whole scenario, phase by phase, and what it prints at the end."""

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx

from demo import (
    changes,
    compliance,
    matching,
    orders,
    registry,
    report,
    rules,
    summary,
    sync,
    world,
)
from demo.api import SERVICES, Api, Endpoints
from demo.context import Context
from demo.ledger import Ledger
from demo.places import AGENCIES
from demo.progress import Log

WIB = timezone(timedelta(hours=7))


@dataclass(frozen=True)
class Options:
    seed: int = 7
    vendors: int = 500
    products: int = 3000
    orders: int = 2000
    fiscal_year: int | None = None
    tag: str = ""
    concurrency: int = 24
    json_out: Path | None = None
    zipkin_url: str = "http://localhost:9411"
    prometheus_url: str = "http://localhost:9090"


async def wait_until_up(api: Api, log: Log, timeout: float = 120.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    for service in SERVICES:
        while True:
            try:
                response = await api.call(service, "GET", "/health/ready")
                if response.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if loop.time() > deadline:
                raise SystemExit(
                    f"{service} does not answer at {api.endpoints.of(service)}/health/ready:"
                    " start the stack with `make services` (deploy/services.sh start)"
                )
            await asyncio.sleep(0.5)
    log.say("all four services ready: " + ", ".join(api.endpoints.of(s) for s in SERVICES))


async def choose_fiscal_year(api: Api, log: Log, opts: Options) -> int:
    """The year asked for, else this year in WIB or the first later one the scenario's OPDs have
    not used: a run never adds to an earlier run's figures, so its own computation compares."""
    codes = {
        f"{region}.{agency.code}{'.' + opts.tag if opts.tag else ''}"
        for region, agencies in AGENCIES.items()
        for agency in agencies
    }
    await _reporting_caught_up(api, log)
    year = opts.fiscal_year or datetime.now(WIB).year
    for _ in range(50):
        if not await _used(api, year, codes):
            return year
        if opts.fiscal_year:
            raise SystemExit(
                f"fiscal year {year} already holds budgets or orders of these OPDs (an earlier"
                " run): the figures would mix two runs. Leave out --fiscal-year to play the next"
                " free year, or add a --tag."
            )
        log.say(
            f"fiscal year {year} already holds these OPDs' budgets or orders; trying {year + 1}"
        )
        year += 1
    raise SystemExit("no free fiscal year found: pass a --tag")


async def _used(api: Api, year: int, codes: set[str]) -> bool:
    token = api.token("auditor", sub="demo-auditor")
    params = {"fiscal_year": year, "limit": 500}
    budgets = await api.json("purchasing", "GET", "/budgets", "budgets", token=token, params=params)
    reported = await api.json(
        "reporting", "GET", "/compliance/opd", "compliance", token=token,
        params={"fiscal_year": year},
    )  # fmt: skip
    used = {b["opd_code"] for b in budgets["items"]} | {r["opd_code"] for r in reported["items"]}
    return bool(used & codes)


async def _reporting_caught_up(api: Api, log: Log, timeout: float = 180.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (lag := await sync.projection_lag(api)) > 0 and loop.time() < deadline:
        log.say(f"  reporting is replaying the event log ({lag} records to go)")
        await asyncio.sleep(2)


async def run(opts: Options, endpoints: Endpoints, log: Log | None = None) -> bool:
    """Plays the scenario; True when the reporting API and the scenario's own computation agree
    and every call that should have worked did."""
    log = log or Log()
    api = Api(endpoints, concurrency=opts.concurrency)
    try:
        await wait_until_up(api, log)
        fiscal_year = await choose_fiscal_year(api, log, opts)
        plan = world.build(
            seed=opts.seed,
            fiscal_year=fiscal_year,
            vendors=opts.vendors,
            products=opts.products,
            orders=opts.orders,
            tag=opts.tag,
        )
        log.say(
            f"scenario: seed {opts.seed}, fiscal year {fiscal_year}, {len(plan.opds)} OPDs in"
            f" {len(AGENCIES)} regions, {len(plan.vendors)} vendors, {len(plan.products)} products,"
            f" {len(plan.orders)} orders"
        )
        ctx = Context(plan, api, Ledger(fiscal_year), log, tag=opts.tag)
        return await _play(ctx, opts)
    finally:
        await api.aclose()


async def _play(ctx: Context, opts: Options) -> bool:
    log, api = ctx.log, ctx.api
    await registry.allocate_budgets(ctx, ctx.world.pagu_idr, "budgets")
    await registry.register_vendors(ctx)
    await rules.show_registration_rules(ctx)
    await registry.verify_vendors(ctx)
    await registry.list_products(ctx)
    await rules.show_catalog_rules(ctx)
    await changes.change_catalogue(ctx)
    await changes.update_and_suspend_vendors(ctx)
    log.say("waiting until every service has heard every event (outbox backlogs and lags at 0)")
    await sync.settle(api, log)
    await orders.play_year(ctx)
    await matching.take_alternatives(ctx)
    await rules.show_order_rules(ctx)
    log.say("waiting for reporting to catch up (projection lag 0, order counts as played)")
    opds = await report.wait_for_reporting(ctx)
    regions = await report.region_report(ctx)
    targets = compliance.targets_from_env()
    ours = compliance.opd_figures(ctx.ledger, targets)
    result = report.compare(ctx, ours, opds, regions, targets)
    log.say(
        f"done: {api.requests} HTTP calls; retried while events propagated: {dict(api.retries)}"
    )
    summary.print_rules(ctx)
    matching.print_matches(ctx)
    report.print_tables(ctx, opds, regions)
    await summary.print_stats(ctx)
    summary.print_verdict(ctx, result)
    await summary.print_urls(ctx, opts.zipkin_url, opts.prometheus_url)
    if opts.json_out:
        summary.write_json(opts.json_out, ctx, ours, opds, regions, result)
    return result.matches and not ctx.failures and not ctx.ledger.snapshot_mismatches
