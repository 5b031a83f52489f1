// The live handoff console: when the server says something changed (Server-Sent Events from
// /handoff/events), fetch each live region's HTML fragment again and put it in place.
// Served from 'self' under the portal's CSP: no inline script, no eval.
(function () {
  "use strict";
  var regions = Array.prototype.slice.call(document.querySelectorAll("[data-fragment]"));
  if (!regions.length || !window.EventSource) { return; }
  var busy = false;
  var again = false;

  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    Promise.all(regions.map(function (region) {
      return fetch(region.getAttribute("data-fragment"), { credentials: "same-origin", cache: "no-store" })
        .then(function (response) {
          if (response.redirected || !response.ok) { throw new Error("signed out or refused"); }
          return response.text();
        })
        .then(function (html) { region.innerHTML = html; });
    })).catch(function () {
      // Signed out or the portal is down: stop listening; a reload shows the sign-in page.
      source.close();
    }).then(function () {
      busy = false;
      if (again) { again = false; refresh(); }
    });
  }

  var source = new EventSource(regions[0].getAttribute("data-events"));
  source.addEventListener("changed", refresh);
})();
