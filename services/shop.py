"""The shop this installation serves."""

from dataclasses import dataclass

from models.shop import Shop


@dataclass(frozen=True)
class ShopInfo:
    name: str
    currency: str
    one_group_per_customer: bool


async def get_shop() -> ShopInfo:
    shop = await Shop.first()
    if shop is None:
        return ShopInfo(name="Customer Groups", currency="USD", one_group_per_customer=False)
    return ShopInfo(name=shop.name, currency=shop.currency, one_group_per_customer=shop.one_group_per_customer)
