"""`python -m widget` runs the `widget` command."""
from widget.cli import main

main()
