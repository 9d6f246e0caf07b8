"""Whole sections of a page, each used by one page: the Lab's sweep and the seed post on Home.

May import: everything in ``ui`` below the pages (``ui.run``, ``ui.sidebar``,
``ui.runs``, ``ui.elements``); never the pages.
"""
