"""What works: widget events in, daily counters out (no per-visitor rows)."""
