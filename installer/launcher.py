"""Entry point of the frozen bundle: the same main() as `python main.py`, made safe to freeze."""

import multiprocessing
import sys

if __name__ == "__main__":
    # A frozen program started as a multiprocessing child must not run main() again.
    multiprocessing.freeze_support()
    from main import main

    sys.exit(main())
