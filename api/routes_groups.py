"""Groups and their members."""

from fastapi import APIRouter

from api.cursors import paged_by_name, seek_after
from api.errors import CHANGED_MEANWHILE
from api.schemas import (
    AddMembersIn,
    AddMembersOut,
    After,
    GroupChange,
    GroupDeleted,
    GroupIn,
    GroupOut,
    GroupSummary,
    MemberOut,
    Paged,
    PagedByName,
    PageNumber,
    PathId,
    PerPage,
    RemoveMembersIn,
    RemoveMembersOut,
    Search,
)
from api.tokens import ApiRoute, CurrentActor
from models.group import GroupStatus, GroupType
from services.groups.group import create_group, delete_group, get_group, list_groups, update_group
from services.membership.changes import add_members, remove_members
from services.membership.members import list_members

router = APIRouter(route_class=ApiRoute, tags=["groups"])


@router.get("/groups", response_model=Paged[GroupSummary], operation_id="listGroups")
async def groups(
    actor: CurrentActor,
    page: PageNumber = 1,
    per_page: PerPage = 50,
    search: Search = "",
    status: GroupStatus | None = None,
    type: GroupType | None = None,
):
    """All groups by name, with their member counts."""
    overview = await list_groups(search=search, status=status, type=type)
    start = (page - 1) * per_page
    return Paged[GroupSummary](
        items=[GroupSummary.model_validate(row) for row in overview.rows[start : start + per_page]],
        total=overview.total_groups,
        page=page,
        per_page=per_page,
    )


@router.post("/groups", response_model=GroupOut, status_code=201, operation_id="createGroup")
async def new_group(actor: CurrentActor, body: GroupIn):
    """Create a group; a rule-based one gets its members from its rule at once."""
    return await create_group(data=body.model_dump(), actor=actor)


@router.get("/groups/{group_id}", response_model=GroupOut, operation_id="getGroup")
async def group(actor: CurrentActor, group_id: PathId):
    """One group."""
    return await get_group(group_id=group_id)


@router.patch("/groups/{group_id}", response_model=GroupOut, responses=CHANGED_MEANWHILE, operation_id="changeGroup")
async def change_group(actor: CurrentActor, group_id: PathId, body: GroupChange):
    """Change the given fields of a group read at `version` (409 if it was saved since)."""
    current = await get_group(group_id=group_id)
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    data = {**current.as_input().model_dump(), **changes}
    return await update_group(group_id=group_id, version=body.version, data=data, actor=actor)


@router.delete("/groups/{group_id}", response_model=GroupDeleted, operation_id="deleteGroup")
async def remove_group(actor: CurrentActor, group_id: PathId):
    """Delete a group: its members are released, its subgroups move up to its parent."""
    return await delete_group(group_id=group_id, actor=actor, reason="Group deleted through the API")


@router.get("/groups/{group_id}/members", response_model=PagedByName[MemberOut], operation_id="listMembers")
async def members(
    actor: CurrentActor,
    group_id: PathId,
    page: PageNumber = 1,
    per_page: PerPage = 50,
    search: Search = "",
    after: After = None,
):
    """A page of the group's members, by name; `after` a page's `next` reads the page that follows it."""
    await get_group(group_id=group_id)  # 404 for a group that does not exist
    seek = seek_after(after, page=page)
    found = await list_members(group_id=group_id, search=search, page=page, per_page=per_page, seek=seek)
    return paged_by_name(found, MemberOut, after=after)


@router.post("/groups/{group_id}/members", response_model=AddMembersOut, operation_id="addMembers")
async def add(actor: CurrentActor, group_id: PathId, body: AddMembersIn):
    """Add customers: only to this group, moving them from their current groups, or as their primary group."""
    result = await add_members(
        group_id=group_id, customer_ids=body.customer_ids, mode=body.mode, actor=actor, reason=body.reason
    )
    return AddMembersOut.model_validate({**result.__dict__, "summary": result.summary()})


@router.post("/groups/{group_id}/members/remove", response_model=RemoveMembersOut, operation_id="removeMembers")
async def remove(actor: CurrentActor, group_id: PathId, body: RemoveMembersIn):
    """Take customers out: into the default group, into another group, or just out of this one."""
    result = await remove_members(
        group_id=group_id,
        customer_ids=body.customer_ids,
        mode=body.mode,
        actor=actor,
        reason=body.reason,
        target_group_id=body.target_group_id,
    )
    return RemoveMembersOut.model_validate({**result.__dict__, "summary": result.summary()})
