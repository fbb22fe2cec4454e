// The export job's page: poll its state once a second until it is ready or failed, and
// show the progress and then the download link (apps/shipments/export_views.py).
(function () {
  "use strict";
  var box = document.getElementById("export-job");
  if (!box) return;
  var url = box.getAttribute("data-state-url");
  // Thousands grouped as the page's language groups them (<html lang>).
  var number = new Intl.NumberFormat(document.documentElement.lang || "en");

  function show(state) {
    document.getElementById("export-rows").textContent = number.format(state.rows_done);
    if (state.rows_total !== null) {
      document.getElementById("export-total").textContent = number.format(state.rows_total);
    }
    document.getElementById("export-progress").value = state.percent;
    document.getElementById("export-status").textContent =
      state.status_label + (state.error ? ": " + state.error : "");
    if (state.download) {
      var link = document.querySelector("#export-download a");
      link.href = state.download;
      document.getElementById("export-download").hidden = false;
    }
    return state.status === "done" || state.status === "failed";
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (state) { if (!show(state)) setTimeout(poll, 1000); })
      .catch(function () { setTimeout(poll, 3000); });
  }
  poll();
})();
