"""Sitrep's built-in postmortem templates (Jinja2), installed as the package ``bot.templates``.

This folder is the templates' home in the source tree; ``setup.py`` maps it into the
package so that a wheel carries them, and ``bot.postmortem.templates`` finds them through
``importlib.resources`` whether Sitrep runs from a checkout or from an installed wheel.
"""
