"""The app for gunicorn in the fault tests: the test's settings come as JSON in FAULT_APP_SETTINGS."""

import json
import os

from marketplace.app import create_app

app = create_app(json.loads(os.environ["FAULT_APP_SETTINGS"]))
