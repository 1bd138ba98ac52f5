// /api/docs: Swagger UI over the registry's OpenAPI document. Its files are served by
// the registry (no CDN); this file exists because the CSP allows no inline script.
"use strict";

// Swagger UI draws a request body's text box under the heading "Request body" without
// tying the two together: the box is named by that heading, so that a screen reader says
// what it holds (WCAG 1.3.1, 4.1.2).
function nameRequestBodies(root) {
  var boxes = root.querySelectorAll("textarea.body-param__text:not([aria-labelledby])");
  Array.prototype.forEach.call(boxes, function (box) {
    var section = box.closest(".opblock-section-request-body");
    var heading = section && section.querySelector(".opblock-title");
    if (!heading) {
      return;
    }
    if (!heading.id) {
      heading.id = "request-body-" + (nameRequestBodies.count = (nameRequestBodies.count || 0) + 1);
    }
    box.setAttribute("aria-labelledby", heading.id);
  });
}

window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  if (!root || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  new MutationObserver(function () {
    nameRequestBodies(root);
  }).observe(root, { childList: true, subtree: true });
  window.SwaggerUIBundle({
    url: root.dataset.openapiUrl || "/api/v1/openapi.json",
    dom_id: "#swagger-ui",
    // No deep links: with them each operation's path is a link inside the button that
    // opens the operation, a control within a control that screen readers and the
    // keyboard cannot tell apart (WCAG 4.1.2).
    deepLinking: false,
    // No call to the public validator service: the page works with no internet.
    validatorUrl: null,
    onComplete: function () {
      root.setAttribute("aria-busy", "false");
    },
  });
});
