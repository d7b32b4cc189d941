"""Package discovery for judgecal.

The product keeps ``prompts/``, ``app/`` and ``annotations/`` at the top level of
the checkout (the design card's layout). An installed wheel must still find them,
so they are installed as ``judgecal.prompts``, ``judgecal.app`` and
``judgecal.annotations``: every folder below them becomes a package and every
file in it package data.
"""

from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
MAPPED = {"prompts": "judgecal.prompts", "app": "judgecal.app", "annotations": "judgecal.annotations"}

packages = find_packages(include=["judgecal", "judgecal.*"])
package_dir = {"judgecal": "judgecal"}
package_data = {}
for folder, dotted in MAPPED.items():
    root = HERE / folder
    if not root.is_dir():
        continue
    for sub in [root, *sorted(p for p in root.rglob("*") if p.is_dir())]:
        if sub.name == "__pycache__":
            continue
        rel = sub.relative_to(HERE)
        name = dotted + "".join("." + part for part in sub.relative_to(root).parts)
        packages.append(name)
        package_dir[name] = rel.as_posix()
        package_data[name] = ["*"]

setup(packages=packages, package_dir=package_dir, package_data=package_data)
