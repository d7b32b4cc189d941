"""Print the third-party requirements of judgecal's core plus the extras named on the
command line (self-references like judgecal[a,b] expanded), one per line, so .ci/run can
install a venv's dependencies in the background without building judgecal itself
while another pip builds it in the same checkout."""

import re
import sys
import tomllib
from pathlib import Path

project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]
extras = project["optional-dependencies"]
out, seen = list(project["dependencies"]), set()


def expand(name: str) -> None:
    if name in seen:
        return
    seen.add(name)
    for req in extras[name]:
        own = re.fullmatch(r"judgecal\[([^\]]+)\]", req.replace(" ", ""))
        if own:
            for sub in own.group(1).split(","):
                expand(sub)
        elif req not in out:
            out.append(req)


for extra in sys.argv[1:]:
    expand(extra)
print("\n".join(out))
