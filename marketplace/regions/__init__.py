"""The national administrative divisions (GB/T 2260, province → city → county) as data, and the market's own area."""
