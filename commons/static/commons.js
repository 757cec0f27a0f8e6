// Live preview for the editor: the server's own renderer, so the preview is exactly the page.
(function () {
  var area = document.querySelector("textarea[data-preview]");
  if (!area) return;
  var pane = document.querySelector(".preview");
  var token = document.querySelector("input[name=csrf_token]");
  var timer = null;
  pane.hidden = false;
  pane.parentElement.classList.add("with-preview");
  function refresh() {
    var data = new FormData();
    data.append("body", area.value);
    if (token) data.append("csrf_token", token.value);
    fetch(area.dataset.preview, {method: "POST", body: data, credentials: "same-origin",
                                 headers: {"X-CSRFToken": token ? token.value : ""}})
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) { pane.innerHTML = html; })
      .catch(function () {});
  }
  area.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(refresh, 300); });
  refresh();
})();
