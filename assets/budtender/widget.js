/* ICC virtual budtender: checkout widget.
 * Put on a checkout page by the store's own server:
 *   <script src="https://ICC/api/v1/budtender/widget.js" data-token="TOKEN" async></script>
 * TOKEN comes from POST /api/v1/budtender/widget/sessions (the store's server, with its partner API key).
 * The widget sends only that token and product ids; it never reads cookies, the page or the customer's details.
 * It renders in a shadow root right after its script tag (or inside data-target="#element-id"). */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) { return; }
  var token = script.getAttribute("data-token") || "";
  var base = new URL(script.src, window.location.href).origin + "/api/v1/budtender";
  var host = document.createElement("div");
  host.className = "icc-budtender";
  var target = script.getAttribute("data-target");
  var mount = target ? document.querySelector(target) : null;
  if (mount) { mount.appendChild(host); } else { script.parentNode.insertBefore(host, script.nextSibling); }
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;

  var css = [
    ":host{all:initial;display:block;font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1c2024}",
    ".panel{border:1px solid #d9dde3;border-radius:12px;padding:16px;background:#fff;max-width:960px}",
    "h2{font-size:16px;margin:0 0 12px;font-weight:600}",
    ".grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:12px}",
    ".card{border:1px solid #e5e8ec;border-radius:10px;padding:12px;display:flex;flex-direction:column;gap:6px}",
    ".name{font-weight:600;font-size:14px}.meta{font-size:13px;color:#555c66}",
    ".why{font-size:12px;color:#2f5d3a;margin:0;padding-left:16px}",
    ".badge{font-size:12px;background:#eef7ee;color:#1d5b2a;border-radius:6px;padding:2px 6px;align-self:flex-start}",
    "button{font:inherit;font-size:13px;border:0;border-radius:8px;padding:8px 10px;background:#1d5b2a;color:#fff;",
    "cursor:pointer;margin-top:auto}button[disabled]{background:#8aa38f;cursor:default}",
    ".empty{font-size:13px;color:#555c66}"
  ].join("");

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text) { node.textContent = text; }
    return node;
  }

  function send(kind, itemId) {
    return fetch(base + "/widget/events", {
      method: "POST", mode: "cors", credentials: "omit", keepalive: true,
      headers: { "Content-Type": "text/plain" },  // a simple request: no preflight on the store's page
      body: JSON.stringify({ token: token, menu_item_id: itemId, kind: kind })
    }).catch(function () { /* feedback is best effort */ });
  }

  function render(data) {
    root.innerHTML = "";
    var style = el("style"); style.textContent = css; root.appendChild(style);
    var panel = el("section", "panel");
    panel.setAttribute("aria-label", "Recommended for you");
    panel.appendChild(el("h2", null, "Budtender picks at " + (data.store || "this store")));
    if (!data.results || !data.results.length) {
      panel.appendChild(el("p", "empty", "No picks right now: everything that fits is already in your cart."));
      root.appendChild(panel);
      return;
    }
    var grid = el("div", "grid");
    data.results.forEach(function (r) {
      var card = el("article", "card");
      card.setAttribute("data-item", r.menu_item_id);
      card.appendChild(el("div", "name", r.name));
      card.appendChild(el("div", "meta", [r.category_label, r.price_text, r.thc].filter(Boolean).join(" · ")));
      if (r.cqi_badge) { card.appendChild(el("span", "badge", r.cqi_badge)); }
      if (r.reasons && r.reasons.length) {
        var why = el("ul", "why");
        r.reasons.slice(0, 2).forEach(function (text) { why.appendChild(el("li", null, text)); });
        card.appendChild(why);
      }
      var add = el("button", null, "Add to cart");
      add.type = "button";
      add.addEventListener("click", function () {
        add.disabled = true; add.textContent = "Added";
        send("add_to_cart", r.menu_item_id);
        host.dispatchEvent(new CustomEvent("icc-budtender:add", { bubbles: true, detail: { menuItemId: r.menu_item_id } }));
      });
      card.addEventListener("click", function (event) {
        if (event.target !== add) { send("click", r.menu_item_id); }
      }, { once: true });
      card.appendChild(add);
      grid.appendChild(card);
    });
    panel.appendChild(grid);
    root.appendChild(panel);
  }

  var limit = script.getAttribute("data-limit") || "4";
  fetch(base + "/widget/recommendations?limit=" + encodeURIComponent(limit) + "&token=" + encodeURIComponent(token),
        { mode: "cors", credentials: "omit" })
    .then(function (response) { return response.ok ? response.json() : { store: "", results: [] }; })
    .then(render)
    .catch(function () { render({ store: "", results: [] }); });
})();
