"""The scenario as a plan: who registers, what is listed, who orders what and how each order ends.

Pure and deterministic: the same seed, fiscal year and tag give the same plan. Nothing here talks
to a service; `registry`, `changes` and `orders` carry the plan out and `ledger` records what
actually happened.
"""

import random

from demo import demand, supply
from demo.catalogue import CATEGORIES
from demo.model import (
    QUARTERS,
    Certification,
    Opd,
    OrderPlan,
    Product,
    Vendor,
    World,
    meets_pdn_wajib,
    order_total,
)
from demo.places import AGENCIES

__all__ = [
    "QUARTERS",
    "Certification",
    "Opd",
    "OrderPlan",
    "Product",
    "Vendor",
    "World",
    "build",
    "meets_pdn_wajib",
    "order_total",
]


def build(
    *, seed: int, fiscal_year: int, vendors: int, products: int, orders: int, tag: str = ""
) -> World:
    # one vendor and one product a category, and a few vendors whose fate is not plain
    if products < len(CATEGORIES) or vendors < len(CATEGORIES) + 5:
        raise ValueError(
            f"need at least {len(CATEGORIES) + 5} vendors and {len(CATEGORIES)} products"
        )
    rng = random.Random(f"etalase-demo:{seed}:{fiscal_year}:{tag}")
    opds = [
        Opd(
            f"{region}.{agency.code}{'.' + tag if tag else ''}",
            agency.name,
            region,
            agency.kind,
            agency.weight,
        )
        for region, agencies in AGENCIES.items()
        for agency in agencies
    ]
    vendor_list = supply.vendors(rng, vendors)
    product_list = supply.products(rng, vendor_list, products, fiscal_year)
    supply.plan_catalog_changes(rng, vendor_list, product_list, fiscal_year)
    order_plans = demand.orders(rng, opds, vendor_list, product_list, orders)
    world = World(seed, fiscal_year, opds, vendor_list, product_list, order_plans, {})
    demand.budgets(rng, world)
    return world
