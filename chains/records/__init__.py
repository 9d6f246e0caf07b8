"""What a run leaves behind: the run store, the exchange format, prices and metrics.

``store`` keeps runs per run set (memory, SQLite or PostgreSQL), ``exchange``
reads and writes History's JSON export strictly, ``pricing`` estimates costs at
list prices, and ``metrics`` derives the figures the pages show from a run's
records.

May import: ``chains`` (timing, modes, models), ``chains.security``,
``chains.simulation`` and ``chains.experiments``; never Streamlit or the UI.
"""
