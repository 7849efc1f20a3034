"""Run Reflex State event handlers without a browser: a real State tree, router data with the page's URL and
query, and the session cookie a signed-in browser would send."""

from __future__ import annotations

from urllib.parse import urlencode

from reflex.istate.data import RouterData
from reflex.state import State

from icc_app.core.security import hash_token
from icc_app.core.web_security import SESSION_REF_COOKIE


def make_state(cls, *, token: str = "", path: str = "/", query: dict | None = None):
    root = State(_reflex_internal_init=True)
    state = root.get_substate(cls.get_full_name().split(".")[1:])
    query = query or {}
    as_path = path + (f"?{urlencode(query)}" if query else "")
    # What the websocket handshake carries once core/web_security.py swapped the session token for its hash.
    cookie = {"cookie": f"{SESSION_REF_COOKIE}={hash_token(token)}"} if token else {}
    root.router = RouterData.from_router_data({"pathname": path, "asPath": as_path, "query": query, "ip": "127.0.0.1",
                                               "headers": {"origin": "http://localhost:3000", **cookie}})
    return state


def run(handler, state, *args):
    """Call an event handler's function and drain it when it yields; returns the last event(s) it produced."""
    result = handler.fn(state, *args)
    if hasattr(result, "__next__"):
        last = None
        for last in result:  # noqa: B007 - drained; the last one is returned
            pass
        return last
    return result
