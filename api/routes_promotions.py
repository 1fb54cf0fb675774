"""Promotions targeted at groups."""

from typing import Literal

from fastapi import APIRouter

from api.errors import CHANGED_MEANWHILE
from api.schemas import (
    Paged,
    PageNumber,
    PathId,
    PerPage,
    PromotionDeleted,
    PromotionIn,
    PromotionOut,
    PromotionReplacement,
    PromotionSummary,
)
from api.tokens import ApiRoute, CurrentActor
from services.promotions import create_promotion, delete_promotion, get_promotion, list_promotions, update_promotion

router = APIRouter(route_class=ApiRoute, tags=["promotions"])


@router.get("/promotions", response_model=Paged[PromotionSummary], operation_id="listPromotions")
async def promotions(
    actor: CurrentActor,
    page: PageNumber = 1,
    per_page: PerPage = 50,
    shown: Literal["active", "scheduled", "expired", "draft"] | None = None,
):
    """Promotions, newest first; `shown` keeps one tab of the promotions page."""
    found = await list_promotions(shown=shown)
    start = (page - 1) * per_page
    return Paged[PromotionSummary](
        items=[PromotionSummary.model_validate(row) for row in found.rows[start : start + per_page]],
        total=len(found.rows),
        page=page,
        per_page=per_page,
    )


@router.post("/promotions", response_model=PromotionOut, status_code=201, operation_id="createPromotion")
async def new_promotion(actor: CurrentActor, body: PromotionIn):
    """Create a promotion."""
    return await create_promotion(data=body.model_dump(), actor=actor)


@router.get("/promotions/{promotion_id}", response_model=PromotionOut, operation_id="getPromotion")
async def promotion(actor: CurrentActor, promotion_id: PathId):
    """One promotion."""
    return await get_promotion(promotion_id=promotion_id)


@router.put(
    "/promotions/{promotion_id}",
    response_model=PromotionOut,
    responses=CHANGED_MEANWHILE,
    operation_id="replacePromotion",
)
async def replace_promotion(actor: CurrentActor, promotion_id: PathId, body: PromotionReplacement):
    """Replace the settings of a promotion read at `version` (409 if it was saved since)."""
    await get_promotion(promotion_id=promotion_id)  # 404 before the form's checks
    return await update_promotion(
        promotion_id=promotion_id, version=body.version, data=body.model_dump(exclude={"version"}), actor=actor
    )


@router.delete("/promotions/{promotion_id}", response_model=PromotionDeleted, operation_id="deletePromotion")
async def remove_promotion(actor: CurrentActor, promotion_id: PathId):
    """Delete a promotion."""
    name = await delete_promotion(promotion_id=promotion_id, actor=actor)
    return PromotionDeleted(id=promotion_id, name=name)
