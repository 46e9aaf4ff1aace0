"""`python -m widget` runs the `widget` command."""
from .cli import main

main()
