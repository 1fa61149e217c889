/* Cascading region selects (province → city → county) over GET /api/v1/regions?parent=CODE.
   Markup: templates/_macros/regions.html. Without this script the plain select / text box is used as is. */
(function () {
  "use strict";
  var cache = {};

  function load(api, parent) {
    var key = parent || "";
    if (!cache[key]) {
      cache[key] = fetch(api + (key ? "?parent=" + encodeURIComponent(key) : ""), {
        headers: { Accept: "application/json" },
      }).then(function (r) { return r.ok ? r.json() : []; }).catch(function () { return []; });
    }
    return cache[key];
  }

  function chainOf(code) {
    return code ? [code.slice(0, 2) + "0000", code.slice(0, 4) + "00", code] : [];
  }

  /* Build the selects under `box`, starting with the children of `root`; `onPick(code, label)` gets the deepest
     choice (or the parent when a level is cleared). Resolves once the initial chain is shown. */
  function cascade(box, api, root, initial, choose, onPick) {
    var chain = chainOf(initial);

    function addLevel(parent, depth) {
      return load(api, parent).then(function (items) {
        if (!items.length) return false;
        var sel = document.createElement("select");
        sel.className = "input region-level";
        sel.setAttribute("data-level", String(depth));
        sel.appendChild(new Option(choose, ""));
        items.forEach(function (i) { sel.appendChild(new Option(i.name, i.code)); });
        box.appendChild(sel);
        sel.addEventListener("change", function () {
          var all = box.querySelectorAll("select.region-level");
          for (var k = all.length - 1; k >= 0; k--) {
            if (Number(all[k].getAttribute("data-level")) > depth) all[k].remove();
          }
          onPick(sel.value || (parent !== root ? parent : ""), labelOf(box));
          if (sel.value) addLevel(sel.value, depth + 1);
        });
        var pick = items.filter(function (i) { return chain.indexOf(i.code) >= 0; })[0];
        if (pick) {
          sel.value = pick.code; // and offer the level below it (a county inside the chosen city)
          return addLevel(pick.code, depth + 1).then(function () { return true; });
        }
        return true;
      });
    }
    return addLevel(root, 1);
  }

  function labelOf(box) {
    var parts = [];
    box.querySelectorAll("select.region-level").forEach(function (s) {
      if (s.value) parts.push(s.options[s.selectedIndex].text);
    });
    return parts.join(" ");
  }

  function single(picker) {
    var field = picker.querySelector("[data-region-value]");
    var api = picker.getAttribute("data-api"), root = picker.getAttribute("data-root") || "";
    load(api, root).then(function (items) {
      if (!items.length) return; // a county-level area: nothing below it, keep the plain select
      var hidden = document.createElement("input");
      hidden.type = "hidden";
      hidden.name = field.name;
      hidden.value = field.value.trim();
      var box = document.createElement("span");
      box.className = "region-levels";
      var current = picker.querySelector(".region-current");
      if (current) current.remove();
      field.replaceWith(hidden);
      picker.insertBefore(box, hidden);
      cascade(box, api, root, hidden.value, picker.getAttribute("data-choose"), function (code) {
        hidden.value = code;
      }).then(function () {
        var first = box.querySelector("select");
        if (first && field.id) first.id = field.id;
      });
    });
  }

  function multi(picker) {
    var field = picker.querySelector("[data-region-value]");
    var api = picker.getAttribute("data-api");
    var chips = picker.querySelector(".region-chips");
    var removeText = picker.getAttribute("data-remove");
    var codes = field.value.split(/[\s,，、;；]+/).filter(Boolean);
    field.type = "hidden";

    function sync() { field.value = codes.join(" "); }
    function chipButton(li) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "chip-remove";
      b.setAttribute("aria-label", removeText);
      b.textContent = "×";
      b.addEventListener("click", function () {
        codes = codes.filter(function (c) { return c !== li.getAttribute("data-code"); });
        li.remove();
        sync();
      });
      li.appendChild(b);
    }
    chips.querySelectorAll("li").forEach(chipButton);

    var box = document.createElement("span");
    box.className = "region-levels";
    var add = document.createElement("button");
    add.type = "button";
    add.className = "btn btn-small region-add";
    add.textContent = picker.getAttribute("data-add");
    var chosen = "", chosenLabel = "";
    add.disabled = true;
    picker.appendChild(box);
    picker.appendChild(add);
    cascade(box, api, "", "", picker.getAttribute("data-choose"), function (code, label) {
      chosen = code;
      chosenLabel = label;
      add.disabled = !code;
    });
    add.addEventListener("click", function () {
      if (!chosen || codes.indexOf(chosen) >= 0) return;
      codes.push(chosen);
      var li = document.createElement("li");
      li.setAttribute("data-code", chosen);
      var span = document.createElement("span");
      span.textContent = chosenLabel;
      li.appendChild(span);
      chipButton(li);
      chips.appendChild(li);
      sync();
    });
  }

  function init() {
    document.querySelectorAll(".region-picker").forEach(function (picker) {
      if (picker.classList.contains("region-multi")) multi(picker); else single(picker);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
