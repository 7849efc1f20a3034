"""Loyalty and CRM: customers, points, segments, churn, campaigns: REST API."""

from fastapi import APIRouter

router = APIRouter()
