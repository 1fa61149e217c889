"""Credit (信用): each agency's itemised credit events, its score and grade A–E, the red and black lists,
appeals (异议申诉) and credit repair (信用修复). It listens to the market's events; nothing calls it to record."""
