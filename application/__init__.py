"""Use cases: the only way any entrypoint reaches the domain."""
