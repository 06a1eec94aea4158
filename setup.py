"""Maps the top-level floors onto the one import namespace ``recagora.*``.

pyproject.toml cannot compute a package list, and each floor folder must install
as ``recagora.<floor>`` (never as a top-level ``agents`` or ``training``).
"""

from setuptools import find_packages, setup

FLOORS = ["item_space", "agents", "training", "environments", "experiments"]

package_dir: dict[str, str] = {}
packages: list[str] = []
for floor in FLOORS:
    package_dir[f"recagora.{floor}"] = floor
    packages.append(f"recagora.{floor}")
    packages += [f"recagora.{floor}.{sub}" for sub in find_packages(floor)]

setup(packages=packages, package_dir=package_dir)
