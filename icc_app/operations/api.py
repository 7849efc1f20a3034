"""Operations suite: demand forecasts, reorder and purchase orders, expirations, pricing: REST API."""

from fastapi import APIRouter

router = APIRouter()
