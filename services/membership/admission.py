"""Whether a group takes members by hand: one answer for the membership changes, the import and the
pages, so a dialog never words its own idea of who may join."""

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from models.group import GroupStatus, GroupType


class Closed(StrEnum):
    RULE_DECIDES = "rule_decides"  # an automatic group: its members follow its rule
    INACTIVE = "inactive"
    LADDER = "ladder"  # a ladder's group: its customers are on its rungs, one each


@dataclass(frozen=True)
class ClosedToHand:
    """Why a group takes no one by hand, and what the owner can do about it."""

    why: Closed
    message: str
    remedy: str

    @property
    def in_full(self) -> str:
        return f"{self.message} {self.remedy}"


def closed_to_hand(
    *, name: str, type: GroupType, status: GroupStatus, is_ladder: bool = False, rungs: Sequence[str] = ()
) -> ClosedToHand | None:
    """None when the group takes members by hand; otherwise why not (a ladder first, then a rule,
    then status). `rungs`: a ladder's rungs, top first, named in the remedy."""
    if is_ladder:
        # A member of the ladder's own group would be on none of its rungs (or beside one): the one
        # rung per customer the ladder keeps says nothing about them.
        where = f" ({', '.join(rungs)})" if rungs else ""
        return ClosedToHand(
            Closed.LADDER,
            f"{name} is a ladder: its customers are on its rungs, one each, not in {name} itself.",
            f"Add them to one of its rungs{where}.",
        )
    if type == GroupType.AUTOMATIC:
        return ClosedToHand(
            Closed.RULE_DECIDES,
            f"{name} is an automatic group: its members follow its rule.",
            "Turn it into a hybrid group to add or remove customers by hand.",
        )
    if status != GroupStatus.ACTIVE:
        return ClosedToHand(
            Closed.INACTIVE,
            f"{name} is inactive: it accepts no new members.",
            "Make the group active to add customers.",
        )
    return None
