"""Each page loads each of its scripts once.

sphinx-thebe, which Jupyter Book always loads, adds its inline configuration script each
time the Sphinx environment starts reading documents, and that happens twice in a Jupyter
Book build: every page then declared ``const THEBE_JS_URL`` twice, and the browser logged
an error on every page. This extension drops a page's repeated scripts (same source, same
inline body, same attributes) just before the page is written, keeping the first of each.
"""

from __future__ import annotations


def _drop_repeats(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen, unique = set(), []
    for script in scripts:
        # an inline script has no file: its filename is None or "", depending on who added it
        key = (script.filename or "", tuple(sorted(script.attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def setup(app):
    app.connect("html-page-context", _drop_repeats, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
