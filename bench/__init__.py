"""The benchmark suite of the speed targets: `python -m bench` (see bench/README.md)."""
