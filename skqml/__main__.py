"""``python -m skqml`` runs the demo (the same as ``python -m skqml.demo``)."""

from .demo import main

if __name__ == "__main__":
    raise SystemExit(main())
