"""Entry script of the frozen app: the same `photorestore` command as the installed package."""

import multiprocessing
import sys

if __name__ == "__main__":
    # A frozen app that ever starts a multiprocessing child (torch DataLoader, ProcessPool) must not
    # re-run the GUI in that child.
    multiprocessing.freeze_support()
    from app.cli import main

    sys.exit(main())
