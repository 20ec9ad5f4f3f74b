"""Sphinx configuration for the leadscore manual."""

from importlib.metadata import version as _version

project = "leadscore"
author = "The leadscore developers"
copyright = "2026, The leadscore developers"
release = _version("leadscore")

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build"]

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
napoleon_google_docstring = True
napoleon_numpy_docstring = False

html_theme = "furo"
html_title = "leadscore"
