"""The pins in constraints.txt (scripts/lock.sh) cover pyproject.toml and are what runs.

No database, no network: pyproject.toml, constraints.txt and the installed distributions.
"""

import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).parents[1]


def normalise(name: str) -> str:
    """A project name as PEP 503 compares it."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pins() -> dict[str, Version]:
    """constraints.txt as {normalised name: pinned version}; every entry an exact pin."""
    found: dict[str, Version] = {}
    for number, line in enumerate((ROOT / "constraints.txt").read_text().splitlines(), 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        requirement = Requirement(text)
        specifiers = list(requirement.specifier)
        assert len(specifiers) == 1 and specifiers[0].operator == "==", \
            f"constraints.txt line {number} is not an exact pin: {line!r}"
        name = normalise(requirement.name)
        assert name not in found, f"constraints.txt pins {name} twice (line {number})"
        found[name] = Version(specifiers[0].version)
    return found


def declared() -> list[Requirement]:
    """The runtime dependencies and the `test` extra of pyproject.toml."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(text)
            for text in project["dependencies"] + project["optional-dependencies"]["test"]]


def test_constraints_pin_every_declared_requirement_within_its_range():
    pinned = pins()
    assert "gridgis" not in pinned, "constraints.txt pins gridgis itself"
    problems = []
    for requirement in declared():
        name = normalise(requirement.name)
        if name not in pinned:
            problems.append(f"{requirement}: not pinned")
        elif not requirement.specifier.contains(pinned[name], prereleases=True):
            problems.append(f"{requirement}: pinned to {pinned[name]}")
    assert not problems, ("constraints.txt does not match pyproject.toml (run scripts/lock.sh):\n"
                          + "\n".join(problems))


def test_the_installed_versions_are_the_pinned_ones():
    installed = {normalise(d.metadata["Name"]): Version(d.version)
                 for d in metadata.distributions() if d.metadata["Name"]}
    mismatches = [f"{name}: installed {installed[name]}, pinned {version}"
                  for name, version in sorted(pins().items())
                  if name in installed and installed[name] != version]
    assert not mismatches, (
        "installed versions differ from constraints.txt (reinstall with "
        "`.venv/bin/pip install -c constraints.txt -e \".[test]\"` or scripts/bootstrap.sh):\n"
        + "\n".join(mismatches))
