"""IVB, the virtual budtender: recommendations, effect quiz, Find My Product, POS widget: REST API."""

from fastapi import APIRouter

router = APIRouter()
