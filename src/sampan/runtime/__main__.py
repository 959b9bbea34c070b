"""`python -m sampan.runtime ARGS`: sampan-runtime without the console script's `import re`.

A shim that starts many containers should rather exec `python -SEs <this package>/launch.py`
(see launch.py): no site, no .pth files, no environment lookups.
"""

from sampan.runtime.cli import main

main()
