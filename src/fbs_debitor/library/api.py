"""HTTP for library staff."""

from fastapi import APIRouter

staff_router = APIRouter(prefix="/api/v1/{kommunekode}", tags=["library"])
