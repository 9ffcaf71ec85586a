"""The FBS-compatible external fee API."""

from fastapi import APIRouter

router = APIRouter(prefix="/external/{agencyid}", tags=["fbs"])
