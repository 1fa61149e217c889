// Small enhancements of the forms; every page works without them.
// The file button (templates/_macros/forms.html file_button): show the chosen files' names beside 选择文件.
(function () {
  "use strict";
  function show(input) {
    var box = input.closest("[data-file-button]");
    var out = box && box.querySelector("[data-file-name]");
    if (!out) return;
    var names = Array.prototype.map.call(input.files || [], function (f) { return f.name; });
    out.textContent = names.length ? names.join("、") : out.getAttribute("data-empty");
  }
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input && input.matches && input.matches("[data-file-button] input[type=file]")) show(input);
  });
  document.addEventListener("DOMContentLoaded", function () {
    // a page drawn again after an error, or restored from the back/forward cache, may still hold files
    document.querySelectorAll("[data-file-button] input[type=file]").forEach(show);
  });
})();
