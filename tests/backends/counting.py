"""An in-memory keyring backend that counts how often it is created and which threads read it."""

import threading

from keyring.backend import KeyringBackend


class CountingKeyring(KeyringBackend):
    priority = 1
    instances = 0
    readers: list[int] = []
    asked: list[str] = []
    entries: dict[tuple[str, str], str] = {}

    def __init__(self):
        super().__init__()
        type(self).instances += 1

    def get_password(self, service, username):
        type(self).readers.append(threading.get_ident())
        type(self).asked.append(service)
        return self.entries.get((service, username))

    def set_password(self, service, username, password):
        self.entries[(service, username)] = password

    def delete_password(self, service, username):
        del self.entries[(service, username)]
