"""Partner API keys and outbound webhooks: REST API."""

from fastapi import APIRouter

router = APIRouter()
