"""The Celery application the end-to-end tests run in real `celery worker`
and `celery beat` subprocesses, and the configuration of the two seed
deployments (see config.py). Nothing here talks to a server at import time."""
