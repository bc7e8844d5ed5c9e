"""The portal's page scripts, installed as the package `smartsupport_pages` (see pyproject.toml).

Streamlit runs each file as a script (`st.Page(path)`), never imports it; this file only makes
the folder a package so `importlib.resources` finds it in a wheel and in an editable install.
"""
