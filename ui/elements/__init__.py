"""Pieces a page draws: results, errors, charts, the live answer, code, inputs, verdicts, chain shapes.

Each module draws one kind of element from ``chains`` objects and knows nothing
of a page's flow.

May import: ``chains``, ``ui.i18n``, ``ui.format`` and ``ui.deployment`` (an
error's message depends on the deployment); never ``ui.run``, ``ui.sidebar``,
``ui.runs``, ``ui.sections`` or the pages.
"""
