"""flask stats …"""

from flask.cli import AppGroup

stats = AppGroup("stats", help="Agency statistics.")
