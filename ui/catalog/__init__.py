"""The catalog pages: products, categories, visibility groups and price lists."""
