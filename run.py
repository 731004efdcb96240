"""Entry point: `python run.py --help`. All the work is in the pipeline package."""
import sys

from pipeline.cli import main

if __name__ == "__main__":
    sys.exit(main())
