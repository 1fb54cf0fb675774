"""Signing in while someone guesses passwords: at most five wrong passwords of one account are ever
checked within the window, even when the guesses arrive all at once; many failures from one address
slow that address's wrong answers down but never refuse the right password of an account. On a real
database."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from models.staff import LoginAttempt, Role
from services.errors import FormError
from services.staff.accounts import authenticate, create_first_owner, create_user
from services.staff.actor import Actor

PASSWORD = "correct horse battery"
WRONG = "The email or password is not right."
LOCKED = "Too many failed attempts. Wait 15 minutes, then try again."
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
async def owner(db: str) -> Actor:
    return await create_first_owner(email="olivia@example.com", name="Olivia Owner", password=PASSWORD)


@pytest.fixture
async def manager(owner: Actor) -> Actor:
    row = await create_user(
        email="max@example.com", name="Max Manager", password=PASSWORD, role=Role.MANAGER, actor=owner
    )
    return Actor(id=row.id, name=row.name, email=row.email, role=row.role)


async def answer(**attempt) -> str:
    """What the sign-in page says to one attempt: the signed-in name, or the error under the password."""
    try:
        return (await authenticate(**attempt)).name
    except FormError as error:
        return error.errors["password"]


async def test_ten_wrong_passwords_at_once_get_only_five_checked(owner: Actor):
    # Ten tabs (or ten scripts) send a wrong password for Olivia's account at the same moment.
    answers = await asyncio.gather(
        *(answer(email="olivia@example.com", password=f"guess {n}", address=f"10.0.0.{n}", now=NOW) for n in range(10))
    )
    assert sorted(answers) == sorted([WRONG] * 5 + [LOCKED] * 5)
    assert await LoginAttempt.filter(email="olivia@example.com").count() == 5

    # Now even her right password waits for the window to pass.
    assert await answer(email="olivia@example.com", password=PASSWORD, address="10.0.0.99", now=NOW) == LOCKED
    later = NOW + timedelta(minutes=16)
    assert await answer(email="olivia@example.com", password=PASSWORD, address="10.0.0.99", now=later) == (
        "Olivia Owner"
    )
    assert await LoginAttempt.filter(email="olivia@example.com").count() == 0


async def test_the_right_password_at_once_with_wrong_ones_is_checked_while_there_is_room(owner: Actor):
    # Four wrong guesses and Olivia herself, all at once: there is room for all five to be checked.
    answers = await asyncio.gather(
        *(answer(email="olivia@example.com", password=f"guess {n}", address="10.0.0.1", now=NOW) for n in range(4)),
        answer(email="olivia@example.com", password=PASSWORD, address="10.0.0.2", now=NOW),
    )
    assert sorted(answers) == sorted([WRONG] * 4 + ["Olivia Owner"])


async def test_many_failures_from_one_address_slow_its_wrong_answers_but_never_refuse_a_right_password(
    owner: Actor, manager: Actor
):
    # Everyone behind the shop's proxy shares one address; someone there sprays guesses over 25
    # made-up accounts (one guess each, so no account's own limit is reached).
    waits: list[float] = []

    async def wait(seconds: float) -> None:  # the test's clock: note the delay instead of sleeping it
        waits.append(seconds)

    for n in range(25):
        assert await answer(
            email=f"guess{n}@example.com", password="guess", address="10.0.0.9", now=NOW, wait=wait
        ) == (WRONG)
    # The first five wrong answers come at once, then each one half a second later than the one
    # before, up to five seconds.
    assert waits == [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0] + [5.0] * 10

    # Max, from the same address, signs in with his right password, and without waiting.
    waits.clear()
    assert await answer(email="max@example.com", password=PASSWORD, address="10.0.0.9", now=NOW, wait=wait) == (
        "Max Manager"
    )
    assert waits == []
    # Olivia mistypes once from there: her wrong answer waits like the others.
    assert await answer(email="olivia@example.com", password="oops", address="10.0.0.9", now=NOW, wait=wait) == WRONG
    assert waits == [5.0]

    # From another address wrong answers come at once; once the window has passed, here too.
    waits.clear()
    assert await answer(email="olivia@example.com", password="oops", address="10.0.0.1", now=NOW, wait=wait) == WRONG
    later = NOW + timedelta(minutes=16)
    assert await answer(email="nobody@example.com", password="oops", address="10.0.0.9", now=later, wait=wait) == (
        WRONG
    )
    assert waits == []
