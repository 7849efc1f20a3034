"""Partner API keys and outbound webhooks: tables."""
