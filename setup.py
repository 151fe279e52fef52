"""Everything about the package is in pyproject.toml; this only fixes editable installs.

setuptools' editable wheel installs a project's data files only when the distribution answers
``has_data()``, a method it does not have (https://github.com/pypa/setuptools/issues/3399), so
``pip install -e .`` would skip ``[tool.setuptools.data-files]``: the prebuilt JupyterLab extension
would not land in ``share/jupyter/labextensions``.  ``pip install .`` is unaffected.
"""

from setuptools import setup
from setuptools.dist import Distribution


class _Distribution(Distribution):
    def has_data(self) -> bool:
        return self.has_data_files()


setup(distclass=_Distribution)
