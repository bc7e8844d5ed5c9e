"""SmartSupport core: the help desk's schema, rules, workflow and services.

Nothing in this package imports Streamlit; the portal, the CLI, the worker and the tests
call the same service functions with an explicit session and acting user.
"""

__version__ = "0.1.0"
