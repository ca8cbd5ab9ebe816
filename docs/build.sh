#!/usr/bin/env bash
# Build the HTML documentation with warnings as errors, from a clean tree.
#   docs/build.sh                  -> docs/_build/html
#   docs/build.sh /tmp/docs_html   -> another output directory
# Extra arguments go to sphinx-build, e.g. `docs/build.sh docs/_build/html -D plot_gallery=0`
# to skip running the examples. Needs `pip install -e ".[docs]"`.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-docs/_build/html}"
shift || true
# Generated sources are rebuilt from scratch; -E ignores any saved environment in "$out".
rm -rf docs/generated docs/auto_examples docs/sg_execution_times.rst
python -m sphinx -E -W --keep-going -b html docs "$out" "$@"
