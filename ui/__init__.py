"""Every way a person reaches policykb: the CLI, the Streamlit app."""
