/* Filters that apply on change (forms marked data-autosubmit): choosing a category, an item, a level or a region,
   or leaving a changed text box, submits the GET form; the 筛选 button stays for browsers without JavaScript.
   A changed category drops the item of the former one (the server checks that too). */
(function () {
  "use strict";
  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    var timer = null;
    function submit() {
      window.clearTimeout(timer);
      // a region picker builds its selects after a pick: let its own handler set the value first
      timer = window.setTimeout(function () {
        if (form.requestSubmit) form.requestSubmit(); else form.submit();
      }, 50);
    }
    form.addEventListener("change", function (event) {
      var field = event.target;
      if (!field || !field.name && !field.classList.contains("region-level")) return;
      if (field.name === "category") {
        var item = form.querySelector("[name=service_item]");
        if (item) item.value = "";
      }
      submit();
    });
    form.classList.add("filters-live");
  });
})();
