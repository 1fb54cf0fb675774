"""ui.actions.run_action: a page runs a service call and shows each kind of refusal its own way."""

import asyncio

import pytest
from nicegui import ui
from nicegui.testing import User

from services.errors import ChangedMeanwhileError, FormError, NotFoundError, PermissionDeniedError
from ui.actions import beside, in_words, run_action


def _refusing(error: Exception):
    async def action() -> None:
        raise error

    return action


async def _saved() -> str:
    await asyncio.sleep(0)
    return "Saved Wholesale."


def _action_page() -> None:
    """A small form whose buttons each meet one answer a service can give."""

    @ui.page("/action-story")
    def page() -> None:
        name = ui.input("Name").mark("name")
        code = ui.input("Code").mark("code")
        rest = ui.label().mark("rest")
        seen: list[str] = []
        done = ui.label().mark("done")

        async def save() -> None:
            outcome = await run_action(_saved, busy=[button])
            done.text = f"{bool(outcome)}: {outcome.value}"

        async def fields() -> None:
            problems = {"name": "Give the group a name.", "code": "Codes are unique.", "rule": "Pick a field."}
            outcome = await run_action(
                _refusing(FormError(problems)), errors=beside({"name": name, "code": code}, rest=rest.set_text)
            )
            done.text = f"{bool(outcome)}: {outcome.value}"

        async def in_one_place() -> None:
            problems = {"name": "Give the group a name.", "code": "Codes are unique."}
            await run_action(_refusing(FormError(problems)), errors=in_words(rest.set_text))

        async def as_notice() -> None:
            await run_action(_refusing(FormError({"capacity": "Wholesale is full: 10 of 10."})))

        async def not_allowed() -> None:
            await run_action(_refusing(PermissionDeniedError("Your role (Viewer) may not manage groups.")))

        async def deleted() -> None:
            await run_action(_refusing(NotFoundError("This group was deleted meanwhile.")), missing=rest.set_text)

        async def changed() -> None:
            await run_action(_refusing(ChangedMeanwhileError()), changed=lambda: seen.append("changed"))
            rest.text = ", ".join(seen)

        button = ui.button("Save", on_click=save).mark("save")
        ui.button("Fields", on_click=fields).mark("fields")
        ui.button("One place", on_click=in_one_place).mark("one-place")
        ui.button("Notice", on_click=as_notice).mark("notice")
        ui.button("Not allowed", on_click=not_allowed).mark("not-allowed")
        ui.button("Deleted", on_click=deleted).mark("deleted")
        ui.button("Changed", on_click=changed).mark("changed")


async def test_an_action_that_goes_through_returns_its_result_and_stops_looking_busy(user: User):
    _action_page()
    await user.open("/action-story")
    user.find(marker="save").click()
    await user.should_see("True: Saved Wholesale.")
    assert "loading" not in user.find(marker="save").elements.pop().props


async def test_field_messages_go_beside_their_fields_and_the_rest_where_the_page_says(user: User):
    _action_page()
    await user.open("/action-story")
    user.find(marker="fields").click()
    await user.should_see("False: None")
    assert user.find(marker="name").elements.pop().error == "Give the group a name."
    assert user.find(marker="code").elements.pop().error == "Codes are unique."
    await user.should_see("Pick a field.")

    user.find(marker="one-place").click()
    await user.should_see("Give the group a name. Codes are unique.")

    user.find(marker="notice").click()
    await user.should_see("Wholesale is full: 10 of 10.")  # notified as a warning by default


async def test_refusals_are_shown_in_the_pages_words(user: User):
    _action_page()
    await user.open("/action-story")
    user.find(marker="not-allowed").click()
    await user.should_see("Your role (Viewer) may not manage groups.")  # notified by default
    user.find(marker="deleted").click()
    await user.should_see("This group was deleted meanwhile.")
    user.find(marker="changed").click()
    await user.should_see("changed")


async def test_a_refusal_the_page_does_not_expect_reaches_the_apps_own_handler():
    with pytest.raises(NotFoundError):
        await run_action(_refusing(NotFoundError("This group was deleted meanwhile.")))
    with pytest.raises(ChangedMeanwhileError):
        await run_action(_refusing(ChangedMeanwhileError()))
