"""Settings → Webhooks: the owner adds an endpoint, copies its secret (shown once), sees the
deliveries arrive in the log and sends one again."""

import asyncio
from datetime import UTC, datetime

from nicegui.testing import User
from standardwebhooks import Webhook

from models.customer import Customer
from models.group import CustomerGroup
from models.webhook import WebhookEndpoint
from services.membership.changes import AddMode, add_members
from services.staff.actor import SystemActor
from tests.webhook_receiver import Receiver


async def test_the_owner_adds_an_endpoint_sees_its_secret_once_and_its_deliveries(user: User):
    with Receiver().running() as receiver:
        await user.open("/settings")
        user.find(marker="open-webhooks").click()
        await user.should_see("No webhook endpoints yet")

        user.find(marker="add-endpoint").click()
        user.find(marker="endpoint-url").type("ftp://files.example.com/hooks")
        user.find(marker="save-endpoint").click()
        await user.should_see("Use an address that starts with https://")

        user.find(marker="endpoint-url").clear().type(receiver.url)
        user.find(marker="endpoint-description").type("Storefront tags")
        for kind in ("group.created", "group.updated", "group.deleted", "rule_run.finished"):
            user.find(marker=f"event-{kind}").click()  # members only
        user.find(marker="save-endpoint").click()
        await user.should_see(marker="new-secret")
        secret = user.find(marker="secret").elements.pop().value
        assert secret.startswith("whsec_")
        await user.should_see(f"Signing secret whsec_…{secret[-4:]}")

        wholesale = await CustomerGroup.get(code="WHOLESALE")
        newcomers = await Customer.filter(memberships__group_id__isnull=True).order_by("id").limit(3)
        if len(newcomers) < 3:
            newcomers = await Customer.exclude(memberships__group_id=wholesale.id).order_by("id").limit(3)
        await add_members(
            group_id=wholesale.id, customer_ids=[c.id for c in newcomers], mode=AddMode.ADD, actor=SystemActor("olivia")
        )
        await user.should_see("Delivered", retries=60)
        endpoint = await WebhookEndpoint.get(url=receiver.url)
        await _received(3, receiver)
        for request in receiver.requests:
            Webhook(secret).verify(request.body, request.headers)

        # Leaving the page and coming back: the secret is not shown again, only its hint.
        await user.open("/settings/webhooks")
        await user.should_see("Storefront tags")
        await user.should_see(f"whsec_…{secret[-4:]}")
        await user.should_not_see(marker="new-secret")

        first = (await endpoint.deliveries.all().order_by("event_id").first()).id
        user.find(marker=f"resend-{first}").click()
        await user.should_see("is sent again, with the same id")
        await _received(4, receiver)
        assert receiver.requests[3].id == receiver.requests[0].id

        user.find(marker=f"test-{endpoint.id}").click()
        await user.should_see("A test event is on its way")
        await user.should_see("webhook.test", retries=60)


async def test_an_endpoint_switched_off_is_announced_on_the_settings_pages(user: User):
    await WebhookEndpoint.create(
        url="https://crm.example.com/hooks",
        description="CRM",
        events=["member.joined"],
        secret="whsec_c2VjcmV0c2VjcmV0c2VjcmV0",
        secret_hint="whsec_…cmV0",
        enabled=False,
        created_at=datetime.now(UTC),
        created_by="Olivia Owner",
        disabled_reason="Switched off automatically: every delivery failed from 2026-01-01 10:00 UTC to "
        "2026-01-04 10:00 UTC (last: HTTP 503).",
    )
    await user.open("/settings")
    await user.should_see("CRM was switched off after days of failed deliveries.")
    await user.open("/settings/webhooks")
    await user.should_see("CRM is switched off")
    await user.should_see("Switch on again")


async def _received(count: int, receiver: Receiver) -> None:
    """Wait for the app's sender to have delivered `count` requests (up to 20 s)."""
    for _ in range(200):
        if len(receiver.requests) >= count:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{len(receiver.requests)} of {count} deliveries arrived")
