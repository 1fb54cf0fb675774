"""Entry point of the one-file binary that `make binary` builds: the `customer-groups` command.

Without a subcommand the binary starts the web app, like `customer-groups run`. Everything it
keeps (database, storage secret, browser sessions) goes to `./data` under the working directory,
or to `$CUSTOMER_GROUPS_DATA`; never beside `__file__`, which in a one-file binary is a temporary
folder that is deleted when the binary exits.
"""

import multiprocessing
import os
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()  # a frozen child process must not start the app again
    # Print the listening line at once, even when stdout is a pipe (a service manager, a CI check).
    sys.stdout.reconfigure(line_buffering=True)
    from services.settings import load_settings

    # NiceGUI reads its storage folder when it is imported: sessions beside the database, not in
    # whichever folder the binary happens to be started from.
    os.environ.setdefault("NICEGUI_STORAGE_PATH", str(load_settings().data_dir / "sessions"))
    from app import main

    main()
