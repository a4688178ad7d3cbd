"""Who buys: each OPD's orders through the year and how each ends, and the budgets (pagu) that
fit them. Pure; drawn from the plan's random generator."""

import math
import random

from demo.catalogue import BUYING, BY_NAME, COMMON, Category
from demo.model import QUARTERS, Opd, OrderPlan, Product, Vendor, World, order_total

# Final fates of an order: (completed, cancelled while placed, cancelled after acceptance,
# accepted and still in progress, placed and not yet accepted), early in the year and in Q4.
_FATES = ("completed", "cancelled_placed", "cancelled_accepted", "accepted", "placed")
_FATE_WEIGHTS = {"early": (82, 5, 5, 4, 4), "late": (45, 5, 5, 25, 20)}


def orders(
    rng: random.Random,
    opds: list[Opd],
    vendors: list[Vendor],
    products: list[Product],
    count: int,
) -> list[OrderPlan]:
    orderable = [p for p in products if vendors[p.vendor_key].orderable and p.delist is None]
    by_category: dict[str, list[Product]] = {}
    by_vendor: dict[int, list[Product]] = {}
    for product in orderable:
        by_category.setdefault(product.category, []).append(product)
        by_vendor.setdefault(product.vendor_key, []).append(product)
    plans: list[OrderPlan] = []
    for key in range(count):
        opd = rng.choices(opds, [o.weight for o in opds])[0]
        quarter = key * QUARTERS // count
        wanted = BUYING[opd.kind] if rng.random() < 0.6 else COMMON
        category = rng.choices(wanted, [3, 2, 1][: len(wanted)])[0]
        candidates = [p for p in by_category.get(category, []) if may_buy(opd, p)]
        if not candidates:
            candidates = [p for p in orderable if may_buy(opd, p)]
        local = [p for p in candidates if vendors[p.vendor_key].region_code == opd.region_code]
        first = rng.choice(local if local and rng.random() < 0.7 else candidates)
        others = [p for p in by_vendor[first.vendor_key] if p is not first and may_buy(opd, p)]
        chosen = [first, *rng.sample(others, min(len(others), rng.choice((0, 0, 1, 1, 2, 3))))]
        lines = tuple((p.key, _quantity(rng, BY_NAME[p.category])) for p in chosen)
        fate = rng.choices(_FATES, _FATE_WEIGHTS["late" if quarter == QUARTERS - 1 else "early"])[0]
        later = fate == "completed" and quarter < QUARTERS - 1 and rng.random() < 0.3
        plans.append(OrderPlan(key, opd.code, quarter, lines, fate, quarter + int(later)))
    return plans


def may_buy(opd: Opd, product: Product) -> bool:
    """A local catalogue serves its own region's agencies."""
    return product.catalog != "lokal" or product.catalog_region_code == opd.region_code


def _quantity(rng: random.Random, category: Category) -> int:
    low, high = category.quantity
    return max(low, round(math.exp(rng.uniform(math.log(low), math.log(high)))))


def budgets(rng: random.Random, world: World) -> None:
    """Pagu a little above what each OPD will commit, so some reach the targets and some do not;
    a third of them raised again in the APBD-Perubahan."""
    planned: dict[str, int] = {opd.code: 0 for opd in world.opds}
    for plan in world.orders:
        planned[plan.opd_code] += order_total(world, plan)
    for opd in world.opds:
        floor = max(planned[opd.code], 50_000_000)
        world.pagu_idr[opd.code] = _millions(floor * rng.uniform(1.03, 1.7))
        if rng.random() < 0.35:
            world.revised_pagu_idr[opd.code] = _millions(
                world.pagu_idr[opd.code] * rng.uniform(1.04, 1.15)
            )


def _millions(amount: float) -> int:
    return math.ceil(amount / 1_000_000) * 1_000_000
