"""The app as `python app.py` serves it, plus one bare page for bench.load: `python -m
bench.app_with_bare_page`.

The bare page holds one label. Loaded in the same run as the app's own pages, it is the floor any
NiceGUI page costs this browser on this machine (Vue and Quasar rendering, the websocket), so each
page's load reads as a multiple of it. It lives here, not in the app: it is a measuring stick.
"""

import runpy

from nicegui import ui

BARE_PAGE = "/bench-bare"
BARE_TEXT = "A bare page"


@ui.page(BARE_PAGE)
def bare_page() -> None:
    ui.label(BARE_TEXT)


if __name__ in {"__main__", "__mp_main__"}:
    runpy.run_path("app.py", run_name="__main__")
