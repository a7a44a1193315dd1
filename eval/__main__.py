"""``python -m eval [--split dev|test|test-v2|test-v1|all] [--kb DIR] [--compare OLD.jsonl] [--no-baselines] [--gate]``."""
import sys

from eval.cli import main

if __name__ == "__main__":
    sys.exit(main())
