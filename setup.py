"""Package layout (the metadata is in pyproject.toml).

The catalogue lives in the repository's top-level ``theorems/`` folder and is installed inside
the project's namespace as ``proofcheck.catalogue``, so ``pip install .`` puts no generic
top-level ``theorems`` package into site-packages. ``proofcheck.catalog`` finds the catalogue in
both layouts (source tree and installed).
"""

from setuptools import find_packages, setup

CATALOGUE = "proofcheck.catalogue"
kernel = find_packages(include=["proofcheck", "proofcheck.*"])
catalogue = [CATALOGUE] + [f"{CATALOGUE}.{p}" for p in find_packages("theorems")]
data = ["*.csv", "*.json", "*.txt", "*.md", "*.npz", "*.html", "*.css", "*.js", "py.typed"]

setup(
    packages=kernel + catalogue,
    package_dir={CATALOGUE: "theorems"},
    package_data={p: data for p in kernel + catalogue},
)
