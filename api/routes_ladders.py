"""Tier ladders: a parent group whose subgroups are rungs, each customer on at most one of them."""

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.schemas import In, Out, PathId
from api.tokens import ApiRoute, CurrentActor
from models.group import GroupStatus, GroupType
from services.errors import FormError
from services.fields import Id
from services.rules.ladder_setup import (
    MAX_HOLD_DAYS,
    get_ladder,
    ladder_preview,
    make_ladder,
    reorder_rungs,
    set_hold_days,
    turn_off_ladder,
)
from services.rules.ladders import LadderRun, RungMoves, Shift, run_ladder
from services.rules.preview import preview_rung_rule

router = APIRouter(route_class=ApiRoute, tags=["ladders"])

RungOrder = Annotated[list[Id], Field(min_length=1, max_length=100, description="The subgroups' ids, top rung first")]
HoldDays = Annotated[
    int | None,
    Field(ge=1, le=MAX_HOLD_DAYS, description="Days a customer below their rung keeps it; empty: no hold"),
]


class LadderIn(In):
    rung_order: RungOrder
    hold_days: HoldDays = None


class LadderChangeIn(In):
    """What to change: the rungs' order, the hold period (null: none), or both."""

    rung_order: RungOrder | None = None
    hold_days: HoldDays = None


class RungRulePreviewIn(In):
    rule: dict[str, Any] = Field(
        description='The draft rule: {"match": "all", "conditions": [{"field": "total_purchases", "op": "gte", '
        '"value": 1500000}]}'
    )


class CustomerRefOut(Out):
    id: int
    name: str


class ShiftOut(Out):
    from_group_id: int | None = Field(description="The rung left; empty: new to the ladder")
    from_name: str | None
    to_group_id: int | None = Field(
        description=(
            "The rung joined; empty: off the ladder. For a 'leave' naming a rung (customers who were on more "
            "than one rung): they left from_group_id and are on this one only, still on the ladder"
        )
    )
    to_name: str | None
    direction: Literal["up", "down", "join", "leave"] = Field(
        description="'leave' with to_group_id empty: off the ladder; with a rung: left from_group_id, on to_group_id only"
    )
    customers: int
    sample: list[CustomerRefOut]


class RungOut(Out):
    group_id: int
    name: str
    position: int = Field(description="1 is the top rung")
    type: GroupType
    status: GroupStatus
    members: int
    by_rule: bool = Field(description="False: a manual, inactive or broken rung, whose members stay where they are")


class LadderOut(Out):
    group_id: int
    name: str
    is_ladder: bool
    hold_days: int | None
    rungs: list[RungOut]
    last_run_at: datetime | None
    last_moves: list[ShiftOut] = Field(description="What the ladder's last run did, by way and rungs")


class RungOutcomeOut(Out):
    group_id: int
    name: str
    position: int
    by_rule: bool
    rule_version: int
    members: int
    arrived: int
    departed: int
    turned_away: int
    held: int


class OverlapCustomerOut(Out):
    id: int
    name: str
    rungs: list[str] = Field(description="The rungs they are on now, top first")
    ends_on: str | None = Field(description="The rung they keep; empty: off the ladder")


class OverlapOut(BaseModel):
    customers: int = Field(description="Customers on more than one rung now")
    ends_on: list[dict[str, Any]] = Field(description='[{"rung": "Gold Tier", "customers": 55}, ...]; rung null: off')
    sample: list[OverlapCustomerOut]
    words: str


class LadderRunOut(BaseModel):
    ladder_id: int
    ladder_name: str
    ran_at: datetime
    moved_up: int
    moved_down: int
    joined: int
    left: int
    rungs: list[RungOutcomeOut]
    shifts: list[ShiftOut]
    overlap: OverlapOut | None = None


class LadderPreviewOut(BaseModel):
    problems: dict[str, str] = Field(description="Why it could not be made as asked, at each field; empty: it can")
    run: LadderRunOut | None = Field(description="Every move making it would make, and who is on several rungs now")


class RungMovesOut(BaseModel):
    group_id: int
    name: str
    up_from: list[ShiftOut]
    down_from: list[ShiftOut]
    new: ShiftOut | None
    up_to: list[ShiftOut]
    down_to: list[ShiftOut]
    off: ShiftOut | None
    words: str = Field(description='"+37 up from Silver Tier, -5 down to Bronze Tier, +12 new to the ladder"')


class RungRulePreviewOut(BaseModel):
    ladder_id: int
    ladder_name: str
    moves: RungMovesOut
    run: LadderRunOut


def _shift(shift: Shift) -> ShiftOut:
    return ShiftOut.model_validate(shift)


def _run(run: LadderRun) -> LadderRunOut:
    overlap = None
    if run.overlap is not None:
        overlap = OverlapOut(
            customers=run.overlap.customers,
            ends_on=[{"rung": name, "customers": n} for name, n in run.overlap.ends_on],
            sample=[OverlapCustomerOut.model_validate(c) for c in run.overlap.sample],
            words=run.overlap.words(),
        )
    return LadderRunOut(
        ladder_id=run.ladder_id,
        ladder_name=run.ladder_name,
        ran_at=run.ran_at,
        moved_up=run.moved_up,
        moved_down=run.moved_down,
        joined=run.joined,
        left=run.left,
        rungs=[RungOutcomeOut.model_validate(r) for r in run.rungs],
        shifts=[_shift(s) for s in run.shifts],
        overlap=overlap,
    )


def _moves(moves: RungMoves) -> RungMovesOut:
    return RungMovesOut(
        group_id=moves.group_id,
        name=moves.name,
        up_from=[_shift(s) for s in moves.up_from],
        down_from=[_shift(s) for s in moves.down_from],
        new=_shift(moves.new) if moves.new else None,
        up_to=[_shift(s) for s in moves.up_to],
        down_to=[_shift(s) for s in moves.down_to],
        off=_shift(moves.off) if moves.off else None,
        words=moves.words(),
    )


@router.get("/groups/{group_id}/ladder", response_model=LadderOut, operation_id="getLadder")
async def ladder(actor: CurrentActor, group_id: PathId):
    """The group as a ladder: its subgroups as rungs, top first, with their members and the last run's moves."""
    return LadderOut.model_validate(await get_ladder(group_id=group_id))


@router.post("/groups/{group_id}/ladder/preview", response_model=LadderPreviewOut, operation_id="previewLadder")
async def preview(actor: CurrentActor, group_id: PathId, body: LadderIn):
    """What making the group a ladder (or this order of its rungs) would do, without doing it."""
    found = await ladder_preview(parent_id=group_id, rung_order=body.rung_order, hold_days=body.hold_days, actor=actor)
    return LadderPreviewOut(problems=found.problems, run=_run(found.run) if found.run else None)


@router.post("/groups/{group_id}/ladder", response_model=LadderRunOut, status_code=201, operation_id="makeLadder")
async def make(actor: CurrentActor, group_id: PathId, body: LadderIn):
    """Make the group a ladder of its subgroups and place every customer on one rung, in one go."""
    run = await make_ladder(parent_id=group_id, rung_order=body.rung_order, hold_days=body.hold_days, actor=actor)
    return _run(run)


@router.patch("/groups/{group_id}/ladder", response_model=LadderRunOut, operation_id="changeLadder")
async def change(actor: CurrentActor, group_id: PathId, body: LadderChangeIn):
    """Reorder the rungs and/or change the hold period; the ladder runs again."""
    sent = body.model_fields_set
    if not sent & {"rung_order", "hold_days"}:
        raise FormError({"rung_order": "Send the rungs' new order, a hold period, or both."})
    run = None
    if body.rung_order is not None:
        run = await reorder_rungs(ladder_id=group_id, rung_order=body.rung_order, actor=actor)
    if "hold_days" in sent:
        run = await set_hold_days(ladder_id=group_id, hold_days=body.hold_days, actor=actor)
    if run is None:
        raise FormError({"rung_order": "The rungs' order cannot be empty."})
    return _run(run)


@router.delete("/groups/{group_id}/ladder", response_model=LadderOut, operation_id="turnOffLadder")
async def turn_off(actor: CurrentActor, group_id: PathId):
    """The group is no longer a ladder; every member stays where they are."""
    return LadderOut.model_validate(await turn_off_ladder(ladder_id=group_id, actor=actor))


@router.post("/groups/{group_id}/ladder/run", response_model=LadderRunOut, operation_id="runLadder")
async def run(actor: CurrentActor, group_id: PathId):
    """Run the ladder now: every customer to the highest rung they qualify for."""
    return _run(await run_ladder(ladder_id=group_id, actor=actor))


@router.post(
    "/groups/{group_id}/rung-preview", response_model=RungRulePreviewOut | None, operation_id="previewRungRule"
)
async def rung_preview(actor: CurrentActor, group_id: PathId, body: RungRulePreviewIn):
    """For a rung of a ladder: what a draft rule would move (up from, down to, new to and off the ladder); null otherwise."""
    found = await preview_rung_rule(group_id=group_id, rule=body.rule)
    if found is None:
        return None
    return RungRulePreviewOut(
        ladder_id=found.ladder_id, ladder_name=found.ladder_name, moves=_moves(found.moves), run=_run(found.run)
    )
