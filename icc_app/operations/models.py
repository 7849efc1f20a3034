"""Operations suite: demand forecasts, reorder and purchase orders, expirations, pricing: tables."""
