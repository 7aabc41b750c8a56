// The upload form of the data page: bytes sent while the browser uploads (htmx's
// xhr:progress), and a refused upload (409, 413, 422 …) shown in place instead of dropped.
document.addEventListener("htmx:xhr:progress", (e) => {
  const bar = document.getElementById("upload-bar");
  const sent = document.getElementById("upload-sent");
  if (!bar || !e.detail.lengthComputable) return;
  bar.max = e.detail.total;
  bar.value = e.detail.loaded;
  sent.textContent = `${e.detail.loaded.toLocaleString()} of ${e.detail.total.toLocaleString()} bytes sent`;
});
document.addEventListener("htmx:beforeSwap", (e) => {
  const form = e.detail.requestConfig && e.detail.requestConfig.elt;
  if (form && form.id === "upload-form" && e.detail.xhr.status >= 400) {
    e.detail.shouldSwap = true;
    e.detail.isError = false;
  }
});
