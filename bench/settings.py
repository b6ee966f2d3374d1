"""The production settings, with static files collected into a scratch folder (BENCH_STATIC_ROOT).

The benchmark collects static files and adds a file of its own; keeping them out of the project's
staticfiles/ leaves nothing behind for anyone else working in the tree.
"""

import os
from pathlib import Path

from netroots.settings import *  # noqa: F403

STATIC_ROOT = Path(os.environ["BENCH_STATIC_ROOT"])
