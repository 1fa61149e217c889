"""Public statistics (/stats) and the monthly report (月度运行报告) per area, kept once generated."""
