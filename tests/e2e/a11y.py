"""axe-core in the browser tests: run the engine on the page as it is and return what it finds.

axe-core comes from the npm registry into .tools (`npm install --prefix .tools --no-audit --no-fund
axe-core@4.10.3`) and is read from that local file: nothing is fetched at test time. It is evaluated through the
DevTools protocol, which the page's Content-Security-Policy does not govern, so the app needs no exception.
"""

from __future__ import annotations

from functools import cache

from icc_app.settings import PROJECT_ROOT

AXE_VERSION = "4.10.3"
AXE_PATH = PROJECT_ROOT / ".tools" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")


@cache
def _axe_source() -> str:
    if not AXE_PATH.exists():
        raise AssertionError(f"axe-core is missing at {AXE_PATH}: npm install --prefix .tools --no-audit --no-fund "
                             f"axe-core@{AXE_VERSION}")
    return AXE_PATH.read_text(encoding="utf-8")


def violations(page, impacts: tuple[str, ...] = BLOCKING) -> list[dict]:
    """axe's violations of the given impacts on the current page: rule id, impact, help text, and for each
    element its CSS selector and the start of its HTML."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(_axe_source())
    found = page.evaluate(r"""async () => {
        const result = await axe.run(document, {resultTypes: ['violations']});
        return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html.slice(0, 160),
                                      why: (n.failureSummary || '').replace(/\s+/g, ' ').slice(0, 240)}))}));
    }""")
    return [v for v in found if v["impact"] in impacts]


def describe(page_name: str, found: list[dict]) -> str:
    """One line per element: where, which rule, what is wrong, so a report names what to fix."""
    lines = []
    for violation in found:
        for node in violation["nodes"]:
            lines.append(f"{page_name}: {violation['id']} ({violation['impact']}): {violation['help']} -> "
                         f"{node['target']}  {node['html']}  [{node['why']}]")
    return "\n".join(lines)
