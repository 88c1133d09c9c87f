"""What every service shares to be watched: log lines (``logs``), the health and metrics
endpoint (``health``) and the consumer-lag probe (``lag``)."""
