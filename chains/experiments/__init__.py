"""What the pages measure and what they conclude: sweeps, the seed post, step traces, chain shapes, verdicts.

``sweep`` runs the N-sweep, ``seed_post`` reproduces the study group's post,
``steps`` traces one call's steps from ``astream_events``, ``shapes`` holds the
chain shapes that show when streaming stops, and ``verdicts`` reads each page's
lesson from its own records.

May import: ``chains`` (modes, timing, joke, chunks) and ``chains.simulation``;
never ``chains.records``, Streamlit or the UI.
"""
