/* Forms that fit the choice (request form, store offers). Only an enhancement: without this script every field
   is shown, and the server ignores the fields the chosen option does not use.

   - [data-show-when="name=a,b"]: shown (and its inputs enabled) only while the control `name` has value a or b.
   - [data-choice-of="name"][data-value="v"]: gets the class `chosen` while `name` has value v.
   - form[data-guided-only="name=v"]: the radio choice v of `name` is offered only when the selected
     <option data-guided="1"> of select[data-guided-source] is a government-guided item.
   - [data-item-facts]: the chosen service item's standard days, guide range and median price, fetched from
     data-api (its "/0/" replaced by the item's id) when select[name=service_item_id] changes. */
(function () {
  "use strict";

  function valueOf(form, name) {
    var els = form.querySelectorAll('[name="' + name + '"]');
    for (var i = 0; i < els.length; i++) {
      var el = els[i];
      if (el.type === "radio" || el.type === "checkbox") {
        if (el.checked) return el.value;
      } else {
        return el.value;
      }
    }
    return "";
  }

  function guidedOnly(form) {
    var rule = form.getAttribute("data-guided-only");
    var source = form.querySelector("select[data-guided-source]");
    if (!rule || !source) return;
    var parts = rule.split("=");
    var opt = source.options[source.selectedIndex];
    var guided = !opt || opt.getAttribute("data-guided") !== "0";
    var radio = form.querySelector('input[name="' + parts[0] + '"][value="' + parts[1] + '"]');
    if (!radio) return;
    var label = radio.closest("label") || radio;
    label.hidden = !guided;
    radio.disabled = !guided;
    if (!guided && radio.checked) {
      var other = form.querySelector('input[name="' + parts[0] + '"]:not([value="' + parts[1] + '"])');
      if (other) other.checked = true;
    }
  }

  function apply(form) {
    guidedOnly(form);
    form.querySelectorAll("[data-show-when]").forEach(function (box) {
      var spec = box.getAttribute("data-show-when").split("=");
      var on = spec[1].split(",").indexOf(valueOf(form, spec[0])) >= 0;
      box.hidden = !on;
      box.querySelectorAll("input, select, textarea").forEach(function (input) { input.disabled = !on; });
    });
    form.querySelectorAll("[data-choice-of]").forEach(function (el) {
      var chosen = el.getAttribute("data-value") === valueOf(form, el.getAttribute("data-choice-of"));
      el.classList.toggle("chosen", chosen);
    });
  }

  function money(fen) {
    return "¥" + (fen / 100).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (_, key) { return values[key]; });
  }

  function showFacts(box, f) {
    var t = function (name) { return box.getAttribute("data-t-" + name); };
    var set = function (name, text) { box.querySelector('[data-fact="' + name + '"]').textContent = text; };
    set("days", fill(t("days"), { n: f.standard_days }));
    set("guide", f.guide_max_fen === null ? t("market")
      : fill(t("guide"), { low: money(f.guide_min_fen), high: money(f.guide_max_fen) }));
    set("median", f.median_fen === null ? t("nodeal")
      : fill(t("median"), { price: money(f.median_fen), n: f.deal_count }));
    box.querySelector('[data-fact="link"]').href = box.getAttribute("data-fees").replace("/0", "/" + f.id);
    box.hidden = false;
  }

  function watchFacts(form) {
    var box = form.querySelector("[data-item-facts]");
    var select = form.querySelector('select[name="service_item_id"]');
    if (!box || !select) return;
    select.addEventListener("change", function () {
      var id = select.value;
      if (!id) { box.hidden = true; return; }
      fetch(box.getAttribute("data-api").replace("/0/", "/" + encodeURIComponent(id) + "/"), {
        headers: { Accept: "application/json" },
      })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (f) { if (f && select.value === String(f.id)) showFacts(box, f); else if (!f) box.hidden = true; })
        .catch(function () { box.hidden = true; });
    });
  }

  document.querySelectorAll("form[data-form-fit]").forEach(function (form) {
    apply(form);
    form.addEventListener("change", function () { apply(form); });
    watchFacts(form);
  });
})();
