"""Which files the package ships: the one thing ``pyproject.toml`` cannot say on its own.

The postmortem templates live in the project's top-level ``templates/`` folder, and the bot
reads them at run time, so they must be inside the installed package. ``package_dir`` maps
that folder into the package as ``bot.templates``: a wheel holds them at
``bot/templates/*.j2``, an editable install finds them where they are, and the code reads
them the same way in both (``importlib.resources.files("bot.templates")``). A list of
packages in ``pyproject.toml`` could map it too, but would have to name every package by
hand; here new packages are still found by themselves.
"""

from pathlib import Path

from setuptools import find_namespace_packages, setup
from setuptools.command.build_py import build_py


class BuildPy(build_py):
    """Also put ``manifest.yml`` in the package: it stays at the project's root, where admins
    paste it from, and the demo's fake Slack grants the app what it declares
    (``bot/sandbox/fakeslack/manifest.py`` reads the copy in an installed wheel)."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads the project's own manifest.yml
            return
        target = Path(self.build_lib, "bot", "sandbox", "fakeslack")
        target.mkdir(parents=True, exist_ok=True)
        self.copy_file("manifest.yml",
                       str(target / "manifest.yml"))


setup(
    # Namespace discovery also finds storage/migrations/ (Alembic's env.py and revisions,
    # which have no __init__.py) as Python itself does.
    packages=[*find_namespace_packages(include=["bot", "bot.*", "storage", "storage.*"],
                                       exclude=["*.__pycache__"]),
              "bot.templates"],
    package_dir={"bot.templates": "templates"},
    package_data={"bot.templates": ["*.j2", "web/*.j2", "web/*.css"],
                  "storage.migrations": ["*.mako"]},
    cmdclass={"build_py": BuildPy},
)
