"""Tortoise models, one module per aggregate. MODEL_MODULES is what the ORM config loads."""

MODEL_MODULES = [
    "models.shop",
    "models.customer",
    "models.group",
    "models.catalog",
    "models.benefits",
    "models.promotion",
    "models.staff",
    "models.audit",
    "models.webhook",
    "models.report",
]
