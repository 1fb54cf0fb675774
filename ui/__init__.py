"""NiceGUI pages and components. Thin: they render and call services, nothing more."""
