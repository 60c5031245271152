"""Rasa's own extensions, loaded by the Rasa server (Python 3.10, ``.venv-rasa``) by the class
paths in ``credentials.yml``; see :mod:`connectors.masked_rest`."""
