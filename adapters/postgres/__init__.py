"""PostgreSQL adapter: SQLAlchemy 2.0 Core on asyncpg."""
