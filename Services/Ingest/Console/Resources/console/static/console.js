// Herald console: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";

  // Characters as people (and Herald's validation) count them: grapheme clusters.
  var segmenter = (typeof Intl !== "undefined" && Intl.Segmenter) ? new Intl.Segmenter(undefined, { granularity: "grapheme" }) : null;
  function graphemes(text) {
    if (segmenter) { var n = 0; for (var _ of segmenter.segment(text)) { n++; } return n; }
    return Array.from(text).length;
  }

  function counters() {
    document.querySelectorAll("[data-max]").forEach(function (field) {
      var out = document.querySelector('[data-count-for="' + field.id + '"]');
      if (!out) { return; }
      var max = parseInt(field.getAttribute("data-max"), 10);
      var update = function () {
        var n = graphemes(field.value);
        out.textContent = String(n);
        out.parentElement.classList.toggle("over", n > max);
      };
      field.addEventListener("input", update);
      update();
    });
  }

  // Filters the listed groups as one types; Enter still asks the server.
  function groupFilter() {
    document.querySelectorAll("[data-filter]").forEach(function (input) {
      var list = document.getElementById(input.getAttribute("data-filter"));
      if (!list) { return; }
      input.addEventListener("input", function () {
        var q = input.value.toLowerCase();
        list.querySelectorAll("li").forEach(function (item) {
          var box = item.querySelector("input");
          var match = (item.getAttribute("data-search") || "").toLowerCase().indexOf(q) >= 0;
          item.hidden = !(match || (box && box.checked));
        });
      });
    });
  }

  function selectedCount() {
    var out = document.getElementById("selected-count");
    if (!out) { return; }
    var form = out.closest("form");
    var update = function () {
      var n = form.querySelectorAll('input[name="group"]:checked').length;
      var limit = out.getAttribute("data-limit");
      out.textContent = out.getAttribute("data-template").replace("{count}", n).replace("{limit}", limit);
      out.classList.toggle("over", n > parseInt(limit, 10));
    };
    form.addEventListener("change", update);
  }

  // Refreshes history and status without reloading the page; stops once a status is final.
  function refresh() {
    document.querySelectorAll("[data-refresh]").forEach(function (region) {
      var url = region.getAttribute("data-refresh");
      var timer = setInterval(function () {
        if (region.querySelector('[data-final="true"]')) { clearInterval(timer); return; }
        if (document.hidden) { return; }
        fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } }).then(function (response) {
          if (!response.ok || response.redirected) { clearInterval(timer); return null; }
          return response.text();
        }).then(function (html) {
          if (html !== null && html !== undefined) { region.innerHTML = html; }
        }).catch(function () { /* try again at the next tick */ });
      }, 3000);
    });
  }

  function focusErrors() {
    var summary = document.getElementById("errors");
    if (summary) { summary.focus(); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    counters(); groupFilter(); selectedCount(); refresh(); focusErrors();
  });
})();
