"""The use cases as MCP tools (contract 1.1, "MCP entrypoint"): Streamable HTTP at /mcp in the
HTTP app, and `taskapi mcp` over standard input and output."""
