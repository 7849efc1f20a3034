"""Loyalty and CRM: customers, points, segments, churn, campaigns: tables."""
