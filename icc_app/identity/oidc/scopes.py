"""The scopes ICC issues, what each lets a token do, and the words a consent screen shows for them."""

SCOPES: dict[str, str] = {
    "openid": "Sign you in with your ICC account",
    "profile": "Your name or public handle",
    "email": "Your email address",
    "business": "Your business, its type, its license numbers and their verification status, your role",
    "offline_access": "Stay connected when you are not using it (refresh tokens)",
    "coa:read": "Read your business's lab results (COAs)",
    "coa:write": "Upload and correct your business's lab results (COAs)",
    "team:read": "See your business's team members and roles",
    "exchange:read": "See your business's lots, offers and orders on the exchange",
    "exchange:write": "List lots, make and answer offers, and update orders for your business",
    "integrations:read": "See your business's point-of-sale connections and their sync history",
    "integrations:write": "Connect, test and sync your business's point-of-sale systems",
    "operations:read": "See your business's demand forecasts, reorder plan, purchase orders, expirations and price "
                       "suggestions",
    "operations:write": "Import sales and stock, manage reorder policies and purchase orders, and decide price "
                        "suggestions for your business",
    "loyalty:read": "See your business's loyalty customers, points, segments and campaigns",
    "loyalty:write": "Enroll customers, award and redeem points, and build segments and campaigns for your business",
}
DEFAULT_CLIENT_SCOPE = "openid profile email business offline_access"
