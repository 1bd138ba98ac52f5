// /api/docs: Swagger UI over the registry's OpenAPI document. Its files are served by
// the registry (no CDN); this file exists because the CSP allows no inline script.
"use strict";

window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  if (!root || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  window.SwaggerUIBundle({
    url: root.dataset.openapiUrl || "/api/v1/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    // No call to the public validator service: the page works with no internet.
    validatorUrl: null,
  });
});
