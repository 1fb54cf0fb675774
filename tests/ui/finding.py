"""What the page stories ask of the simulated page: the one element with a marker, the wizard's step
in view, and waiting for what an async handler does on the server."""

import asyncio

from nicegui import ui
from nicegui.testing import User


def one(user: User, mark: str):
    return user.find(mark).elements.pop()


def step_in_view(user: User) -> str:
    return user.find(ui.stepper).elements.pop().value


async def until(check, tries: int = 30) -> bool:
    """Wait for what an async click handler does on the server."""
    for _ in range(tries):
        if check():
            return True
        await asyncio.sleep(0.1)
    return check()
