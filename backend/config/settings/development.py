"""Development: `manage.py` (its default) and the processes `python3 dev.py run` starts. DEBUG is on."""

from config.env import env_bool, load_dotenv

# backend/.env fills in what the environment leaves unset, before base.py reads a variable (config/env.py).
load_dotenv()

from .base import *  # noqa: E402, F403

DEBUG = env_bool("DJANGO_DEBUG", True)
