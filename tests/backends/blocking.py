"""A keyring backend that never answers, like a locked keyring waiting for an unlock prompt.

Selected with PYTHON_KEYRING_BACKEND=blocking.BlockingKeyring and this directory on PYTHONPATH.
"""

import threading

from keyring.backend import KeyringBackend


class BlockingKeyring(KeyringBackend):
    priority = 1

    def get_password(self, service, username):
        threading.Event().wait()

    def set_password(self, service, username, password):
        threading.Event().wait()

    def delete_password(self, service, username):
        threading.Event().wait()
