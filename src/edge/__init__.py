"""Edge search: bracket where training turns into a stall or NaN, and report the boundary."""
