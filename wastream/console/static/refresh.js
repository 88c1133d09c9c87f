// Auto-refresh of the parts of a page marked data-live (every 10 s): the page itself is
// fetched again and those parts swapped in; nothing else, no framework.
(function () {
  var live = document.querySelectorAll("[data-live]");
  if (!live.length) return;
  setInterval(function () {
    fetch(location.href, { credentials: "same-origin" }).then(function (r) {
      return r.ok ? r.text() : null;
    }).then(function (html) {
      if (!html) return;
      var doc = new DOMParser().parseFromString(html, "text/html");
      live.forEach(function (el) {
        var fresh = doc.getElementById(el.id);
        if (fresh) el.innerHTML = fresh.innerHTML;
      });
    }).catch(function () {});
  }, 10000);
})();
