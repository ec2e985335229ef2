from .base import *  # noqa: F403

MAWID_ENV = "test"
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAWID_JOB_RETRY_BASE_SECONDS = 0.05
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
