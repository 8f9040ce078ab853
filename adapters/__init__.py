"""Adapters: the ports implemented on PostgreSQL and in memory."""
