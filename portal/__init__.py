"""The Streamlit portal: entry point, navigation, login, shared widgets."""
