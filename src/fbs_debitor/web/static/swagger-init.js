// Starts Swagger UI on /docs. A file of its own (not an inline script) so that the
// Content-Security-Policy can forbid inline scripts everywhere, /docs included.
"use strict";
(function () {
  const element = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: element.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
})();
