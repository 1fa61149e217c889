// Interactive API documentation (Swagger UI, vendored under static/vendor/swagger-ui).
window.addEventListener("DOMContentLoaded", function () {
  var el = document.getElementById("swagger");
  window.SwaggerUIBundle({ url: el.dataset.spec, dom_id: "#swagger", deepLinking: true, persistAuthorization: true });
});
