"""What the demo prints after the tables: the rules it saw enforced, the counts per region, the
verdict of the independent check, and where to look next (APIs, documents, traces)."""

import json
import os
from pathlib import Path
from typing import Any

import httpx

from demo import report
from demo.api import SERVICES
from demo.context import Context
from demo.places import REGION_BY_CODE


def print_rules(ctx: Context) -> None:
    ctx.log.plain()
    ctx.log.plain("Rules at work (calls made to be refused):")
    for r in ctx.ledger.rejections:
        mark = "ok " if r.as_expected else "!! "
        ctx.log.plain(f"  {mark}{r.what:<48} expected {r.expected}, got {r.got}  {r.detail}")


async def print_stats(ctx: Context) -> None:
    log, token = ctx.log, ctx.auditor()
    log.plain()
    log.plain("Vendors and catalogue per kab/kota (/stats: every run and every source so far):")
    for region in sorted({opd.region_code for opd in ctx.world.opds}):
        params = {"region_code": region}
        vendors = await ctx.api.json(
            "reporting", "GET", "/stats/vendors", "stats", token=token, params=params
        )
        catalog = await ctx.api.json(
            "reporting", "GET", "/stats/catalog", "stats", token=token, params=params
        )
        for v in vendors["items"][:1]:
            s = v["by_status"]
            log.plain(
                f"  {region} {REGION_BY_CODE[region].name:<21} vendors {v['total']:>5}: verified"
                f" {s['verified']}, registered {s['registered']}, suspended {s['suspended']};"
                f" UMK-K {v['umkk']}, koperasi {v['koperasi']}; MPP desk {v['via_mpp_desk']},"
                f" online {v['online']}"
            )
        for c in catalog["items"][:1]:
            log.plain(
                f"  {'':27}products {c['listed']:>5}: tayang {c['tayang']},"
                f" delisted {c['delisted']}, {c['categories_tayang']} categories;"
                f" domestic {c['tayang_domestic']}, TKDN>=25 {c['tayang_tkdn25']},"
                f" PDN-wajib {c['tayang_pdn_wajib']}, UMK-K {c['tayang_umkk']};"
                f" katalog lokal {c['katalog_lokal_tayang']}"
            )


def print_verdict(ctx: Context, result: report.Comparison) -> None:
    log, ledger = ctx.log, ctx.ledger
    log.plain()
    statuses = {s: ledger.count(s) for s in ("completed", "cancelled", "accepted", "placed")}
    played = ", ".join(f"{n} {s}" for s, n in statuses.items())
    log.plain(f"Orders played: {len(ledger.orders)} ({played})")
    verdict = "MATCH" if result.matches else "MISMATCH"
    log.plain(
        f"Independent computation vs reporting API: {verdict} — {result.opd_rows} OPD rows and"
        f" {result.region_rows} region/province rows, every measure to the rupiah, shares,"
        " targets and flags"
    )
    if result.foreign_opds:
        others = ", ".join(f"{code}: {n}" for code, n in sorted(result.foreign_opds.items()))
        log.plain(f"  region rows also hold OPDs this run did not create ({others}): an earlier")
        log.plain(
            "  year's run or tests on the same Kafka; they enter the sums as the API gives them"
        )
    for difference in result.differences[:20]:
        log.plain(f"  {difference}")
    for failure in ctx.failures[:10]:
        log.plain(f"  unexpected answer: {failure}")
    for mismatch in ledger.snapshot_mismatches[:5]:
        log.plain(f"  purchasing's snapshot differs from the listing: {mismatch}")


async def print_urls(ctx: Context, zipkin: str, prometheus: str) -> None:
    log = ctx.log
    log.plain()
    log.plain("APIs (the stack keeps running; `make down` stops it):")
    for service in SERVICES:
        base = ctx.api.endpoints.of(service)
        log.plain(f"  {service:<13} {base}/docs   {base}/asyncapi")
    _print_dashboard(ctx)
    order_id = next((o.order_id for o in ctx.ledger.orders if o.status == "completed"), None)
    trace = await _placement_trace(zipkin, order_id)
    if trace is None:
        hint = "not answering: `bash deploy/zipkin.sh start`, then restart the services"
        log.plain(f"  traces        {zipkin}/zipkin/ ({hint})")
    else:
        log.plain(f"  traces        {zipkin}/zipkin/")
        if trace:
            url = f"{zipkin}/zipkin/traces/{trace}"
            log.plain(f"  an order placed, from POST /orders to reporting: {url}")
    alerts = await _alerts(prometheus)
    if alerts is None:
        log.plain(
            f"  metrics       {prometheus} (not answering: `bash deploy/prometheus.sh start`)"
        )
    else:
        page, firing = alerts
        log.plain(f"  metrics       {prometheus}/graph   alerts {page}")
        log.plain(f"  alerts firing: {', '.join(firing) if firing else 'none'}")


async def _alerts(prometheus: str) -> tuple[str, list[str]] | None:
    """The alerts page (Debian's build serves the classic UI under /classic) and the names of
    the alerts firing; None when Prometheus does not answer."""
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.get(f"{prometheus}/api/v1/alerts")
            classic = await client.get(f"{prometheus}/classic/alerts")
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    firing = sorted(
        {
            a["labels"]["alertname"]
            for a in response.json()["data"]["alerts"]
            if a["state"] == "firing"
        }
    )
    page = f"{prometheus}/classic/alerts" if classic.status_code == 200 else f"{prometheus}/alerts"
    return page, firing


def _print_dashboard(ctx: Context) -> None:
    """How to open the compliance dashboard: a token goes into its sign-in form, never a URL."""
    log = ctx.log
    world = ctx.world
    province = world.opds[0].region_code[:2] if world.opds else ""
    opd = world.opds[0] if world.opds else None
    base = ctx.api.endpoints.of("reporting")
    log.plain(
        f"  dashboard     {base}/dashboard/wilayah?fiscal_year={world.fiscal_year}"
        f"&province={province}"
    )
    log.plain("    sign in by pasting a token into its form:")
    log.plain("      uv run etalase token --role auditor                (everything)")
    if opd is not None:
        log.plain(
            f"      uv run etalase token --role buyer --opd {opd.code} --region"
            f" {opd.region_code}   ({opd.name} only)"
        )
    log.plain(
        f"  OCDS          {base}/ocds/releases?fiscal_year={world.fiscal_year} (bearer token)"
    )


async def _placement_trace(zipkin: str, order_id: str | None) -> str | None:
    """The trace in which the order was placed: its POST /orders, the outbox relay's publish
    (tagged with the order id as the Kafka key) and the consumers' spans. "" when Zipkin has
    none of it (the services export elsewhere); None when Zipkin does not answer."""
    query: dict[str, str | int] = {
        "serviceName": "purchasing",
        "annotationQuery": f"messaging.kafka.message.key={order_id}",
        "limit": 10,
        "lookback": 7 * 24 * 3600 * 1000,
    }
    try:
        async with httpx.AsyncClient(timeout=20) as client:
            response = await client.get(f"{zipkin}/api/v2/traces", params=query)
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    for trace in response.json() if order_id else []:
        if any(span.get("name") == "post /orders" for span in trace):
            trace_id: str = trace[0]["traceId"]
            return trace_id
    return ""


def write_json(path: Path, ctx: Context, ours: Any, opds: Any, regions: Any, result: Any) -> None:
    document = {
        "fiscal_year": ctx.world.fiscal_year,
        "opd_codes": sorted(ours),
        "ours": ours,
        "api": {"opd": opds, "regions": regions},
        "matches": result.matches,
        "differences": result.differences,
        "failures": ctx.failures,
        "snapshot_mismatches": ctx.ledger.snapshot_mismatches,
        "rejections": [r.__dict__ for r in ctx.ledger.rejections],
        "p3dn_matches": [m.__dict__ for m in ctx.ledger.matches],
        "orders": {
            s: ctx.ledger.count(s) for s in ("placed", "accepted", "completed", "cancelled")
        },
        "endpoints": {s: ctx.api.endpoints.of(s) for s in SERVICES},
        "pid": os.getpid(),
    }
    path.write_text(json.dumps(document, indent=2, default=str))
