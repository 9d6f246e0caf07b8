"""Plain LangChain code for the call-modes lab: no Streamlit below this package."""
