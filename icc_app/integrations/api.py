"""Integrations hub: REST API."""

from fastapi import APIRouter

router = APIRouter()
