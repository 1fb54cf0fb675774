"""Trying a rule before saving it."""

from fastapi import APIRouter

from api.schemas import GroupChangeOut, MatchOut, RulePreviewIn, RulePreviewOut
from api.tokens import ApiRoute, CurrentActor
from services.rules.preview import preview_rule

router = APIRouter(route_class=ApiRoute, tags=["rules"])


@router.post("/rules/preview", response_model=RulePreviewOut, operation_id="previewRule")
async def preview(actor: CurrentActor, body: RulePreviewIn):
    """How many customers a rule matches, the first of them by name, and (for a group) who would join and leave."""
    result = await preview_rule(rule=body.rule, group_id=body.group_id)
    return RulePreviewOut(
        matching=result.matching,
        total_customers=result.total_customers,
        share=result.share,
        samples=[MatchOut(customer_id=s.customer_id, name=s.name, email=s.email) for s in result.samples],
        change=GroupChangeOut.model_validate(result.change) if result.change else None,
    )
