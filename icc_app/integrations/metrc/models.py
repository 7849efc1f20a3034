"""Metrc seed-to-sale: tables (compliance alerts, package links, transfer templates)."""
