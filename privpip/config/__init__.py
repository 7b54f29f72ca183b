"""privpip's configuration: the model, finding and merging files, parsing them, editing them.

The public names are re-exported here; ``load`` is the one way a command gets its Config
(through the run's Context, which calls it once).
"""

from privpip.config.discovery import (
    USER_FILE,
    find_project_file,
    has_privpip_table,
    load,
    project_file,
    user_config_file,
)
from privpip.config.model import (
    DEFAULT_PUBLIC_INDEX,
    PROJECT_FILE,
    PYPROJECT_FILE,
    Config,
    Delivery,
    GitHost,
    Index,
    Installer,
    did_you_mean,
    label,
)

__all__ = [
    "DEFAULT_PUBLIC_INDEX",
    "PROJECT_FILE",
    "PYPROJECT_FILE",
    "USER_FILE",
    "Config",
    "Delivery",
    "GitHost",
    "Index",
    "Installer",
    "did_you_mean",
    "find_project_file",
    "has_privpip_table",
    "label",
    "load",
    "project_file",
    "user_config_file",
]
