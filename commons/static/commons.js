// Live preview for the editor: the server's own renderer, so the preview is exactly the page.
// Without JavaScript the form is a plain form and the preview pane stays hidden.
(function () {
  var area = document.querySelector("textarea[data-preview]");
  if (!area) return;
  var form = area.form;
  var pane = document.querySelector(".preview");
  var token = document.querySelector("input[name=csrf_token]");
  var timer = null;
  var sent = 0;  // only the latest answer is shown, even if an older one arrives after it
  var status = document.createElement("p");
  status.className = "preview-error";
  status.setAttribute("role", "status");
  status.hidden = true;
  area.parentElement.appendChild(status);
  if (pane) {
    pane.hidden = false;
    pane.parentElement.classList.add("with-preview");
  }
  function refresh() {
    if (!pane || !window.fetch) return;
    var mine = ++sent;
    var data = new FormData();
    data.append("body", area.value);
    if (token) data.append("csrf_token", token.value);
    fetch(area.dataset.preview, {method: "POST", body: data, credentials: "same-origin",
                                 headers: {"X-CSRFToken": token ? token.value : ""}})
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        if (mine !== sent) return;
        pane.innerHTML = html;  // sanitised by the server, exactly as the page shows it
        status.hidden = true;
      })
      .catch(function () {
        if (mine !== sent) return;
        status.textContent = area.dataset.previewError || "";
        status.hidden = !status.textContent;
      });
  }
  area.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(refresh, 400); });
  // Ctrl+Enter (Cmd+Enter on a Mac) saves, through the form's own validation.
  if (form) {
    form.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && !event.altKey) {
        event.preventDefault();
        if (form.requestSubmit) form.requestSubmit(); else form.submit();
      }
    });
  }
  refresh();
})();

// Wide tables in what people wrote scroll inside their own box on narrow screens; a box that
// does scroll is made focusable, so the keyboard can scroll it too. (Rendered Markdown is
// cached and shared by every language, so the box is added here rather than in the HTML.)
(function () {
  var tables = document.querySelectorAll(".body table, .comment table");
  if (!tables.length) return;
  var boxes = [];
  tables.forEach(function (table) {
    var box = document.createElement("div");
    box.className = "table-scroll";
    table.parentNode.insertBefore(box, table);
    box.appendChild(table);
    boxes.push(box);
  });
  function focusable() {
    boxes.forEach(function (box) {
      if (box.scrollWidth > box.clientWidth) box.setAttribute("tabindex", "0");
      else box.removeAttribute("tabindex");
    });
  }
  focusable();
  window.addEventListener("resize", focusable);
})();
