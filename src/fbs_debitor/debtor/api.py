"""HTTP of the debtor system."""

from fastapi import APIRouter

integration_router = APIRouter(tags=["debtor integration"])
staff_router = APIRouter(prefix="/api/v1/{kommunekode}", tags=["debtor"])
