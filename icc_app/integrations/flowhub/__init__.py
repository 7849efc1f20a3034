"""Flowhub POS: clientId/key headers, location inventory (For Sale rooms only), customers and orders."""
