"""Demo data: a realistic company (departments, staff, employees), tickets over a year with
their SLA history, comments and ratings, and help-centre articles, loaded idempotently by
`smartsupport demo` and the README's first command. `loader` writes it; `tickets` plans each
ticket's timeline; `text` holds the wording; `articles` the help-centre articles."""

from . import loader
from .loader import DEFAULT_PASSWORD, DEMO_ACCOUNTS, database_is_empty, is_demo_database, load_demo

__all__ = ["DEFAULT_PASSWORD", "DEMO_ACCOUNTS", "database_is_empty", "is_demo_database", "load_demo", "loader"]
