"""Domain logic: async, keyword-only functions over the models. Never imports NiceGUI."""
