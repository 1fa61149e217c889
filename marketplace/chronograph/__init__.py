"""The clock that acts: time-driven transitions as named operations, run by `flask clock` or `flask tick`."""
