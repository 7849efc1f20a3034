"""Jane (iHeartJane): signed order webhooks, and a product feed where a partner grants one."""
