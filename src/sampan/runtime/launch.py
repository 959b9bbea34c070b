"""sampan-runtime's fastest start: `<venv python> -SEs <path of this file> ARGS`.

-S skips site (and so .pth files, setuptools' distutils hook, the venv's site-packages), -E
and -s ignore PYTHON* variables and the user site: about 3 ms less than the console script,
which also imports re. Without site, sampan is found next to this file: Python puts this
file's directory (src/sampan/runtime, symlinks resolved) first on sys.path, and it is
replaced with the directory holding the sampan package before anything else is imported.
Keep this file tiny: a script run this way is compiled on every start.
"""

import sys

sys.path[0] = sys.path[0].rsplit("/", 2)[0]

from sampan.runtime.cli import main  # noqa: E402

main()
